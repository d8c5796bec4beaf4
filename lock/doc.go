// Package lock is a project's deploy lock, kept on the engine the project
// deploys to, so that runs on different machines against one engine (CI
// runners on ssh:// or tcp://) take turns, not only processes on one host.
//
// The lock is a container named after the project (Name): the engine gives
// a name to one container at a time, and a create under a taken name fails
// with a conflict, so creating it is taking the lock, atomically, and
// removing it is releasing it. Its labels, immutable, say who holds it
// (host, user, pid, command, since).
//
// A holder may die without releasing (kill -9, a lost machine). Its lock
// container runs a tiny program (program.go) whose standard input is the
// holder's attach stream: the engine closes that input when the holder's
// connection ends, whatever the transport, and the program exits; it also
// exits when the holder's heartbeats, a byte every Expiry/6, stop for the
// Expiry (the machine went away with its connection open). The engine then
// removes the container (AutoRemove), which frees the lock. A holder
// starts its container only once it has held it for half the expiry, so a
// short hold pays only for a create and a remove of a container never
// started; a waiting run starts a lock it finds created, which is how it
// learns whether the holder is still there (the program runs while the
// holder is attached, and exits at once when it is not). Once started, a dead holder's lock goes with no run coming to look.
// No image can be pulled, so the program's image is imported from a tar
// stack writes, and removed as soon as the container exists: nothing of
// the lock stays on the engine once it is released.
//
// A holder learns that it lost the lock (a forced release by Break, or an
// expiry after its machine was suspended) within a heartbeat, and its
// context is cancelled with ErrLost: the work it protects stops.
//
// It never prints: waiting, taking over and losing are progress events.
// It knows nothing of manifests or drivers: a project name and a Client.
package lock
