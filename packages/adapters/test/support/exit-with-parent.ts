/**
 * Loaded first in every process a test spawns: the process kills itself once its parent (the
 * vitest worker) is gone. Linux does not end children with their parent, and a worker killed
 * on a timeout runs no hook, so without this its relays, consumers and servers would live on,
 * holding Postgres connections that every later test of the run then cannot get.
 */
const parentPid = process.ppid;

setInterval(() => {
  // Reparented (to init or a subreaper): the parent died.
  if (process.ppid !== parentPid) process.kill(process.pid, 'SIGKILL');
}, 250).unref();
