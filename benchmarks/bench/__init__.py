"""The invoice mock's benchmark, in readable parts; `benchmarks/bench_mock.py` is its entry point.

How the parts fit (each module's docstring says why it is shaped the way it is):

* what is sent — `sample` (the valid create body from the shared fixtures), `scenarios` (one small
  definition per operation loaded: create, read, and the lifecycle's update, bulk update and
  line items);
* who answers — `servers` (spawn, first 200, /proc, stop by pid), `prism` (the pinned npm Prism),
  `source` (the frozen copy of the mock being measured), `context` (one invocation's settings);
* how it is measured — `wrk` (the load generator), `probe` (a trivial request every 10 ms beside
  wrk: the event loop's longest stall), `procfs` (CPU and memory from /proc), `launches` (time to
  first 200), `rounds` (alternating load runs), `memory` (RSS per stored invoice);
* what is said — `summary` (medians, ratios, targets), `report` (Markdown tables), `profiling` and
  `profile_stats` (`--profile`: where the time goes), `cli` (the flags).
"""
