"""Benchmarks: `python -m bench` (consent POSTs, bench/load.py), `python -m bench browser`
(the banner in Chromium, bench/browser.py) and `python -m bench shop` (gatekeeper.shop's
middleware on a Starlette page, bench/shop.py)."""
import sys

if sys.argv[1:2] == ["browser"]:
    from .browser import main

    main(sys.argv[2:])
elif sys.argv[1:2] == ["shop"]:
    from .shop import main

    main(sys.argv[2:])
else:
    from .load import main

    main()
