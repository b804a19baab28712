"""Benchmarks: `python -m bench` (consent POSTs, bench/load.py), `python -m bench browser`
(the banner in Chromium, bench/browser.py), `python -m bench verify` (the consent
token's check before the first tag on a return visit, bench/verify.py), `python -m bench
shop` (gatekeeper.shop's middleware on a Starlette page, bench/shop.py) and `python -m bench logs`
(what the request log and /metrics cost on the consent POST, bench/observability.py)."""
import sys

if sys.argv[1:2] == ["browser"]:
    from .browser import main

    main(sys.argv[2:])
elif sys.argv[1:2] == ["verify"]:
    from .verify import main

    main(sys.argv[2:])
elif sys.argv[1:2] == ["logs"]:
    from .observability import main

    main(sys.argv[2:])
elif sys.argv[1:2] == ["shop"]:
    from .shop import main

    main(sys.argv[2:])
else:
    from .load import main

    main()
