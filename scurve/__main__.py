"""``python -m scurve`` is ``scurve``."""

from scurve.cli import main

if __name__ == "__main__":
    main(prog_name="scurve")
