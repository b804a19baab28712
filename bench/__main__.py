"""Benchmarks: `python -m bench` (consent POSTs, bench/load.py) and `python -m bench browser`
(the banner in Chromium, bench/browser.py)."""
import sys

if sys.argv[1:2] == ["browser"]:
    from .browser import main

    main(sys.argv[2:])
else:
    from .load import main

    main()
