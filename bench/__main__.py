"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import pages, queue, sealing

if __name__ == "__main__":
    pages.main()
    print()
    sealing.main()
    print()
    queue.main()
