// Preloaded into baseline processes while profiling: SIGTERM exits normally, so --cpu-prof writes its profile.
process.once('SIGTERM', () => process.exit(0));
