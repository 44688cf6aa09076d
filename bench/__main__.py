"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import pages, sealing

if __name__ == "__main__":
    pages.main()
    print()
    sealing.main()
