"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import image_memory, pages, queue, sealing, statistics, steps

if __name__ == "__main__":
    pages.main()
    print()
    steps.main()
    print()
    sealing.main()
    print()
    queue.main()
    print()
    statistics.main()
    print()
    image_memory.main()
