// Package kube is the Kubernetes driver (Driver: observe.go, ops.go,
// execute.go, wait.go, applyset.go, lease.go, ps.go, run.go: one-offs as
// Jobs; restore.go: undoing a failed rollout; drift.go: edits made outside
// stack; the verbs logs.go, exec.go, events.go, stats.go, metrics.go and
// images.go)
// and, in the files named below, the mapping of a compose project to the
// Kubernetes objects that run it: the driver's pure half. Map takes the loaded project (after
// address injection, with images as pinned) and returns client-go's typed
// apply configurations, which the driver server-side applies with field
// manager "stack" and which `stack config --format kubernetes` prints as YAML
// (Objects.YAML). It must not talk to a cluster or an engine, print, or
// decide anything the plan shows differently: the driver observes, plans and
// applies what Map returns.
//
// Every problem is a *manifest.Error naming file, line, service and field,
// all of them at once (ErrBindMount, ErrPublishedPort, ErrInvalidName,
// ErrSharedVolume, ErrInvalid); every field that Kubernetes cannot honour is
// a warning naming it and saying what is done instead (unsupported.go).
//
// # The mapping
//
// All objects of a project go to one namespace: the environment's
// namespace:, else the project's name (shop-prod for environment prod of
// shop). Each carries io.stack.project, app.kubernetes.io/managed-by: stack,
// and a service's also io.stack.service and app.kubernetes.io/name; pods are
// selected by project and service. The driver adds the ApplySet label
// (LabelApplySetPartOf) it prunes by.
//
// A service is one workload of one container:
//
//   - a Job when another service waits for it with
//     service_completed_successfully, or whose deploy.mode is
//     replicated-job (restartPolicy Never; backoffLimit from max_attempts, 0
//     when it must not restart);
//   - a DaemonSet when its deploy.mode is global (a pod on every node; a
//     ReadWriteOnce volume is refused there, ReadWriteMany shared);
//   - a StatefulSet when it mounts a named volume whose access is
//     ReadWriteOnce (the default): see Volumes below;
//   - a Deployment otherwise.
//
// deploy.replicas (or scale) is its replicas. update_config becomes the
// Deployment's rolling update: order stop-first (compose's default) is
// maxSurge 0 and maxUnavailable parallelism, start-first maxSurge
// parallelism and maxUnavailable 0, parallelism 0 all at once; without
// update_config Kubernetes' default stands (a DaemonSet's update follows the
// same rule). Resources: limits are limits,
// reservations requests (and mem_limit, cpus, mem_reservation likewise).
// entrypoint is the container's command and command its args, with every $
// doubled where Kubernetes would otherwise expand $(VAR); user (numeric),
// working_dir, read_only, privileged, cap_add/cap_drop, tty, stdin_open,
// stop_grace_period, hostname, extra_hosts, sysctls and pull_policy map to
// their fields; node.labels.K==V placement constraints to a nodeSelector.
// labels become pod annotations and deploy.labels the workload's (a compose
// label's value may be anything; a Kubernetes label's may not).
//
// The healthcheck is the readiness probe, an exec of its test (CMD-SHELL
// through /bin/sh -c), with interval, timeout and retries as period,
// timeout and failure threshold in whole seconds. start_period adds a
// startup probe that allows start_period/interval + retries failures, as
// compose does not count failures in that time. A liveness probe is only
// made when the service asks in x-stack, since a failing liveness probe
// restarts the container, which compose never does:
//
//	x-stack:
//	  kubernetes:
//	    liveness: true        # the healthcheck, as a liveness probe too
//	    liveness:             # or a probe of its own, healthcheck-shaped
//	      test: ["CMD", "/app", "-alive"]
//	      interval: 10s
//	      retries: 3
//	      start_period: 5s    # its initialDelaySeconds
//
// A HEALTHCHECK in the image alone is not probed: Kubernetes ignores it.
//
// # Services and ports
//
// Every compose service gets a Service of its name, so that the name (and
// the injected REDIS_HOST=redis) resolves through cluster DNS as on a
// compose network. It is ClusterIP over the ports the service declares
// (expose, ports targets), or headless (clusterIP None, no ports) when it
// declares none or says endpoint_mode: dnsrr: a headless name resolves to
// the pods themselves, so REDIS_PORT=6379 from the image's EXPOSE reaches
// redis without the compose file naming the port. kompose drops such
// services' Services; the name would then not resolve.
//
// Published ports are served by a second Service, <name>-published: of
// type NodePort, each published port the NodePort of that number, which
// must lie in 30000-32767 and be published by no other service
// (ErrPublishedPort names the port otherwise), or of
// type LoadBalancer listening on the published ports when the environment
// says expose: loadbalancer. A port published without a number ("8080")
// gets a NodePort the cluster picks, or the load balancer's port of its
// target. A service name must be a DNS-1035 label (a
// Service's name): my_db is refused, naming it, with my-db as the fix.
//
// # The gateway
//
// x-stack.gateway is the Caddy of the other drivers (gateway.go), with the
// Caddy config package gateway renders, as three objects named
// stack-gateway: a ConfigMap holding the config, a Deployment running it
// (one pod, rolled a new pod first, its template carrying the config's and
// the routes' hashes, so that a changed route rolls it and `plan` shows a
// reload), and a Service publishing its ports by the rules above (a
// NodePort in 30000-32767, or a LoadBalancer). Each route's upstream is
// its service's Service by name (web:8080): a routed service's Service
// serves its route's port even when the compose file declares none, and is
// ClusterIP, so kube-proxy sends each connection only to a pod that is
// ready and not terminating. A service's rollout therefore needs no
// reload of the gateway. A routed pod that stops first drains: a preStop
// sleep of 5s (no shell needed), within its stop_grace_period, while its
// endpoint leaves kube-proxy's rules, then SIGTERM. Caddy retries a
// refused dial for 5s and never marks the Service's address down
// (gateway.Options.Balanced). The image (caddy:2 unless x-stack.gateway
// says) is copied to the environment's registry as
// <registry>/stack-gateway and run by digest, as a service's.
//
// # Volumes
//
// A named volume is a PersistentVolumeClaim, its size (default 1Gi), storage
// class and access mode set at the top level:
//
//	x-stack:
//	  kubernetes:
//	    volumes:
//	      data: {size: 10Gi, class: fast, access: ReadWriteOnce}
//
// How replicas share it follows from the access mode. A ReadWriteOnce claim
// (the default) can be mounted by the pods of one node only, so sharing it
// between replicas, as one engine shares a volume between containers, would
// work until the scheduler spreads them. So a service mounting one is a
// StatefulSet whose volumeClaimTemplates give each replica a claim of its
// own, data-<service>-0, data-<service>-1, ...: replicas do not share data.
// This holds for one replica too, so that scaling up later keeps replica 0's
// claim, and a StatefulSet never runs two pods of one replica, which a
// Deployment's rolling update would do while the claim is held. The
// StatefulSet replaces its pods one at a time (update_config's parallelism
// and start-first are warnings) and starts them in parallel. A ReadWriteOnce
// volume mounted by two services is refused (ErrSharedVolume): give it
// access ReadWriteMany, which a storage class such as NFS or CephFS offers,
// and every replica of every service mounts one shared claim, <volume>, from
// a Deployment, as on one engine. An external volume is the existing claim
// of its name, shared, and its Deployment is recreated rather than rolled.
// A claim is never filled from the image's contents at the mount point, as
// Docker fills an empty volume. Claims outlive their StatefulSet (its
// retention policy is Kubernetes' default, Retain), as volumes outlive
// `down` without -v.
//
// A bind mount is refused (ErrBindMount) naming file, service and field: a
// pod's node has no such path. An anonymous volume is an emptyDir; tmpfs
// (either syntax) an emptyDir in memory with its size as sizeLimit.
//
// Secrets and configs are Secrets and ConfigMaps named after their keys
// (db_password -> db-password), the value under the key, mounted as one file
// (subPath) where compose puts it: a secret at /run/secrets/<name> unless
// its target is absolute, a config at its target or /<name>, with its mode.
// An external one is the existing object of its name, the value under the
// compose key. The pod template carries engine.ConfigHash of the service,
// which covers the secrets' and configs' contents, so a changed file rolls
// the pods that mount it (a subPath mount is never updated in place).
//
// # Failed rollouts and drift
//
// Under --atomic, and for an update of a workload whose
// update_config.failure_action is rollback (the default, as on Docker and
// Swarm), a rollout that fails (a pod that cannot run, or one never ready
// by --timeout, named with its probe's failure) is undone: every object
// the run changed is server-side applied again as Observe found it (the
// fields stack had applied, and the pod template whole: kubectl rollout
// undo's previous revision), each it created is deleted, and the previous
// revision is waited ready; the error names the cause and what was rolled
// back. failure_action pause leaves the failed rollout as Kubernetes holds
// it; so does a first deploy without --atomic.
//
// A field stack applies that another field manager has since changed
// (kubectl edit, scale, set image) is drift: plan shows the service to
// repair, naming the field and the manager, and up takes it back. It is
// read from the objects' managedFields, which Observe lists anyway.
package kube
