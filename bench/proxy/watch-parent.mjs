// Preloaded into every benchmark child (`node --import ./bench/proxy/watch-parent.mjs ...`):
// exits the process when its parent (the orchestrator) is gone, so no child outlives a
// killed benchmark. One unref'd timer per second; nothing on the request path.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) {
    process.kill(process.pid, "SIGTERM");
    setTimeout(() => process.exit(1), 3000).unref();
  }
}, 1000);
timer.unref();
