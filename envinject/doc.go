// Package envinject gives every service of a stack the addresses of the
// services it depends on, as environment variables, so an app that reads
// REDIS_HOST and REDIS_PORT works with no address written in the manifest.
//
// It is pure: the loaded manifest and a Facts (what the target knows: the
// host name a service is reachable under, the ports its image exposes) go in,
// variables come out, added to each service's Environment so that the
// engine's config hash covers them. It must not talk to an engine, print, or
// overwrite anything the user set.
//
// # Rules
//
// Service S receives, for each service D it depends on (depends_on and links,
// plus the dependencies compose-go derives from network_mode: service:D and
// volumes_from), with PREFIX being D's name upper-cased and every character
// other than A-Z and 0-9 turned into _ (user-db -> USER_DB):
//
//	PREFIX_HOST=<host>   the name D is reachable under on the stack network
//	                     (its service name on the local engine: stable
//	                     across recreation, unlike an IP)
//	PREFIX_PORT=<port>   D's primary container port: the first `expose`
//	                     entry, else the target of the first `ports` entry,
//	                     else the lowest EXPOSE port of D's image (an image
//	                     stores EXPOSE as a set, so the Dockerfile order is
//	                     lost; tcp before udp before sctp on a tie)
//
// When D has more than one port (from the source the primary came from:
// every expose entry with ranges expanded, every ports target, or every image
// EXPOSE), S also gets one variable per port, primary included, in the form
// Docker's legacy links used:
//
//	PREFIX_PORT_<port>_<PROTO>=<proto>://<host>:<port>   e.g. WEB_PORT_8443_TCP=tcp://web:8443
//
// D without any port gives PREFIX_HOST only; the Report says why.
//
// A variable the user set (environment, env_file) is never overwritten; the
// Report marks it declared and names the service whose value it replaced.
//
// # Settings
//
// x-stack.inject at the top level sets the default for every service, and
// x-stack.inject on a service replaces the mode and adds prefixes:
//
//	x-stack:
//	  inject:
//	    mode: dependencies   # default; `all`: every other service of the stack; `none`
//	    prefix:
//	      redis: CACHE       # CACHE_HOST, CACHE_PORT instead of REDIS_HOST, REDIS_PORT
//
// Two services whose variables would have the same names (my-db and my_db
// both give MY_DB_HOST) are an error naming both; the fix is a prefix for one.
//
// # Templates
//
// Inside environment values (after compose's ${...} interpolation, with which
// the syntax cannot clash) {{svc.host}} and {{svc.port}} are replaced by the
// address of any service of the stack, whatever the mode:
//
//	DATABASE_URL: "postgres://app@{{db.host}}:{{db.port}}/shop"
//
// Only {{name.field}} shapes are templates ({{ .Name }} and other text pass
// through); an unknown service or field, or a port of a service without one,
// is an error naming the file, the service and the variable. A port that only
// an image not yet built or pulled can give is left as {{svc.port}} and
// listed by Report.Pending: a plan shows it, and stack refuses to start a
// container with it.
package envinject
