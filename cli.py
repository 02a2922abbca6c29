"""Run scurve from a checkout: ``python cli.py ...`` is ``scurve ...``."""

from scurve.cli import main

if __name__ == "__main__":
    main()
