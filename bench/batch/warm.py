#!/usr/bin/env python3
"""Touches and frees MIB mebibytes of memory, so that the next program timed gets memory the
host has backed (the same for meldpunt and for DuckDB).

Why: on a virtual machine with free page reporting (virtio-balloon, `page_reporting` in
/sys/module), memory that has been free for a few seconds is handed back to the host, and the
first touch of each such page costs a fault in the host (measured on the development VM:
~3-5 us per 4 KiB page, shown as system time in whatever touched it, clear_page or a file
write). A program that starts after a quiet spell (the first round after setup) pays that for
its whole footprint; one that starts right after another program freed its memory mostly does
not. At scale 10 this alone moved meldpunt's first round between 11.7 s (sys 2.6 s) and 16.8 s
(sys 9.3 s), and DuckDB's between 11.8 and 15.2 s. Touching memory right before each timed run
takes that out of both sides; it changes nothing either program does.

Usage: warm.py MIB
"""

import mmap
import sys

CHUNK = 1 << 20


def main() -> None:
    mib = int(sys.argv[1])
    if mib <= 0:
        return
    size = mib * CHUNK
    zeros = b"\1" * CHUNK
    m = mmap.mmap(-1, size)
    for off in range(0, size, CHUNK):
        m[off : off + CHUNK] = zeros
    m.close()


if __name__ == "__main__":
    main()
