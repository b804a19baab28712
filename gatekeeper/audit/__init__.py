# Seconds of page time each audit scenario dwells before it is judged (dwell.py, `--dwell`);
# here, apart from dwell.py, because the command line reads it without importing Playwright.
DEFAULT_DWELL = 30.0
