"""Python's cyclic garbage collector, set for a serving process (issue [R2 9/9]).

Reference counting frees almost everything a request makes the moment the request ends
(``Loaders.close`` cuts the one cycle each request used to make). What the cyclic collector
still does under load is mostly wasted: every 700 net allocations it walks the young
objects, promotes those of the requests in flight (alive, but for milliseconds) to older
generations, and each time enough have been promoted it walks *every* object of the
process: the schema, the mappers, the modules, some 170,000 objects, about 0.1 s each time.
Under the benchmark's load that was a fifth to a third of the API's CPU (bench/README.md,
"Round 4").

So, once the app has started:

- ``gc.freeze()``: everything alive after start-up (the schema, the mappers, the modules)
  is moved where the collector never looks again; it is never garbage anyway;
- the young generation is collected after ``GEN0`` net allocations instead of 700, so
  requests in flight are rarely promoted; cycles are still collected, just in larger,
  rarer batches (a page of 20 loans allocates a few thousand objects).
"""

from __future__ import annotations

import gc

GEN0, GEN1, GEN2 = 50_000, 20, 20


def tune() -> None:
    """Collect once, freeze what is left, and raise the young generation's threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0, GEN1, GEN2)
