// `DroverWorker`: the worker agent and the process executor; see docs/architecture.md.
