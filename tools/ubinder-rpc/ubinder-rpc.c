/* SPDX-License-Identifier: MIT */
/*
 * ubinder-rpc: serves a ubinder service to Android RPC Binder clients
 * (RpcSession, protocol version 1) on a Unix socket, TCP or vsock, and
 * RPC Binder servers as ubinder services; optionally over TLS. A normal
 * libubinder client of its ubinderd. docs/rpc.md is the manual.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_export.h"
#include "rpc_import.h"
#include "rpc_layout.h"
#include "rpc_session.h"
#include "rpc_stream.h"
#include "rpc_tls.h"
#include "socket-arg.h"
#include "ubinder/ubinder.h"

/* Connections a client may open for its calls (GET_MAX_THREADS). */
#define EXPORT_THREADS 4

static const char usage[] =
	"Usage: ubinder-rpc [OPTION]... export --listen ADDRESS (--service NAME | "
	"--service-manager)\n"
	"       ubinder-rpc [OPTION]... import --connect ADDRESS --as NAME\n"
	"Bridges ubinder and Android RPC Binder (RpcSession, protocol version 1).\n"
	"export serves the local service NAME (or the service manager) as the root\n"
	"object of RPC sessions; import registers the root object of the RPC server\n"
	"at ADDRESS as the local service NAME. ADDRESS is unix:PATH, tcp:HOST:PORT or\n"
	"vsock:CID:PORT.\n"
	"\n"
	"  --listen ADDRESS           where to serve (export); nothing is served by default\n"
	"  --service NAME             the local service to export\n"
	"  --service-manager          export the service manager itself\n"
	"  --connect ADDRESS          the RPC server to import from\n"
	"  --as NAME                  the name to register the imported object under\n"
	"  --layout FILE              where binders sit in the parcels of other interfaces\n"
	"                             (lines: DESCRIPTOR CODE request|reply FIELD...)\n"
	"  --descriptors              import: carry descriptors (RPC fd transport mode\n"
	"                             Unix; the server must allow it; not with TLS)\n"
	"  --tls-cert FILE            TLS (1.3): our certificate (PEM; with --tls-key and\n"
	"                             --tls-peer-cert, all three or none)\n"
	"  --tls-key FILE             TLS: the private key of --tls-cert (PEM, unencrypted)\n"
	"  --tls-peer-cert FILE       TLS: the certificates a peer may present (PEM, one\n"
	"                             or more); any other peer is refused\n"
	"  -s, --socket PATH          the context's socket (default: $UBINDER_SOCKET, else\n"
	"                             the default socket of the context)\n"
	"  -c, --context NAME         the context (binder, hwbinder, vndbinder, ...)\n"
	"  -h, --help                 this help\n"
	"  -V, --version              the version\n"
	"\n"
	"Binders cross where a layout places them (built in: the kvstore example's\n"
	"watch, IServiceManager's getService, checkService and addService); a parcel\n"
	"with a binder no layout places is refused (BAD_VALUE), as is one with a\n"
	"descriptor on a session without descriptor transport. export allows\n"
	"descriptors on Unix sockets without TLS. With TLS, both sides present a\n"
	"certificate and every connection is TLS: plaintext peers are refused.\n"
	"Callers appear to the far side with the bridge's pid and uid.\n";

static int usage_error(const char *msg)
{
	fprintf(stderr, "ubinder-rpc: %s\nTry 'ubinder-rpc --help'.\n", msg);
	return 2;
}

/* The exported service died: its sessions end with the process, so that
 * their peers (an importing bridge, and through it its callers) see it. */
static void service_died(ubinder_binder *binder, void *userdata)
{
	(void)binder;
	fprintf(stderr, "ubinder-rpc: service '%s' died; closing its sessions\n",
		(const char *)userdata);
	exit(1);
}

static int run_export(ubinder_context *ctx, const char *listen_at,
		      const struct rpc_export_config *c)
{
	const char *what = c->service ? c->service : "the service manager";
	ubinder_binder *root = NULL;
	char bound[300];
	int err, lfd, status;

	err = c->service ? ubinder_sm_check_service(ctx, c->service, &root)
			 : ubinder_sm_get(ctx, &root);
	if (err || !root) {
		if (c->service)
			fprintf(stderr, "ubinder-rpc: no service named '%s'\n", c->service);
		else
			fprintf(stderr, "ubinder-rpc: no service manager\n");
		return 1;
	}
	err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = ubinder_binder_link_to_death(root, service_died, (void *)what);
	if (err) {
		fprintf(stderr, "ubinder-rpc: cannot watch '%s': %s\n", what,
			ubinder_strerror(err));
		ubinder_binder_unref(root);
		return 1;
	}
	lfd = rpc_listen(listen_at);
	if (lfd < 0) {
		ubinder_binder_unref(root);
		return 1;
	}
	rpc_listen_address(lfd, listen_at, bound, sizeof(bound));
	fprintf(stderr, "ubinder-rpc: serving '%s' on %s%s\n", what, bound, c->tls ? " (TLS)" : "");
	status = rpc_export_serve(lfd, c);
	close(lfd);
	ubinder_binder_unref(root);
	return status;
}

/* The built-in layouts and those of @file (may be NULL). */
static struct rpc_layouts *load_layouts(const char *file)
{
	struct rpc_layouts *l = rpc_layouts_new();
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	int line;

	if (!l || !file)
		return l;
	f = fopen(file, "r");
	if (f) {
		FILE *m = open_memstream(&text, &size);
		char buf[4096];
		size_t n;

		while (m && (n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		if (m)
			fclose(m);
		fclose(f);
	}
	if (!text) {
		fprintf(stderr, "ubinder-rpc: cannot read %s: %s\n", file, strerror(errno));
		rpc_layouts_free(l);
		return NULL;
	}
	line = rpc_layouts_parse(l, text);
	free(text);
	if (line) {
		fprintf(stderr,
			"ubinder-rpc: %s:%d: not a layout (DESCRIPTOR CODE request|reply "
			"FIELD...)\n",
			file, line);
		rpc_layouts_free(l);
		return NULL;
	}
	return l;
}

int main(int argc, char **argv)
{
	static const struct option options[] = { TOOL_LONG_OPTIONS,
						 { "listen", required_argument, NULL, 'L' },
						 { "service", required_argument, NULL, 'S' },
						 { "service-manager", no_argument, NULL, 'M' },
						 { "connect", required_argument, NULL, 'C' },
						 { "as", required_argument, NULL, 'A' },
						 { "layout", required_argument, NULL, 'Y' },
						 { "descriptors", no_argument, NULL, 'D' },
						 { "tls-cert", required_argument, NULL, 'T' },
						 { "tls-key", required_argument, NULL, 'K' },
						 { "tls-peer-cert", required_argument, NULL, 'P' },
						 { NULL, 0, NULL, 0 } };
	struct tool_args args = { NULL, NULL };
	const char *listen_at = NULL, *service = NULL, *connect_to = NULL, *as = NULL;
	const char *layout_file = NULL, *socket_path, *cmd, *address;
	struct rpc_layouts *layouts;
	struct rpc_session *session = NULL;
	struct rpc_tls_files tls_files = { NULL, NULL, NULL };
	struct rpc_tls *tls = NULL;
	char resolved[108];
	ubinder_context *ctx;
	int opt, status, bad, err;
	bool exporting, sm = false, descriptors = false;

	while ((opt = getopt_long(argc, argv, TOOL_SHORT_OPTIONS, options, NULL)) != -1) {
		const char **slot = opt == 'L'	 ? &listen_at
				    : opt == 'S' ? &service
				    : opt == 'C' ? &connect_to
				    : opt == 'A' ? &as
				    : opt == 'Y' ? &layout_file
				    : opt == 'T' ? &tls_files.cert
				    : opt == 'K' ? &tls_files.key
				    : opt == 'P' ? &tls_files.peer_cert
						 : NULL;

		if (slot) {
			*slot = optarg;
			continue;
		}
		if (opt == 'M' || opt == 'D') {
			*(opt == 'M' ? &sm : &descriptors) = true;
			continue;
		}
		if (!tool_common_option(opt, &args, "ubinder-rpc", usage, &status))
			status = 2;
		if (status >= 0)
			return status;
	}
	if (optind >= argc)
		return usage_error("missing command");
	cmd = argv[optind];
	if ((strcmp(cmd, "export") && strcmp(cmd, "import")) || optind + 1 != argc)
		return usage_error("the commands are 'export' and 'import'");
	exporting = !strcmp(cmd, "export");
	if (exporting ? !listen_at || !!service == sm || connect_to || as
		      : !connect_to || !as || listen_at || service || sm) {
		return usage_error(
			exporting ? "export takes --listen and --service or --service-manager"
				  : "import takes --connect and --as");
	}
	if (!tls_files.cert != !tls_files.key || !tls_files.cert != !tls_files.peer_cert)
		return usage_error("TLS takes --tls-cert, --tls-key and --tls-peer-cert together");
	if (descriptors && (exporting || !rpc_address_is_unix(connect_to) || tls_files.cert))
		return usage_error("--descriptors is for an import over a Unix socket without TLS");
	address = exporting ? listen_at : connect_to;
	if (!rpc_address_valid(address)) {
		fprintf(stderr,
			"ubinder-rpc: bad address '%s' (want unix:PATH, tcp:HOST:PORT or "
			"vsock:CID:PORT)\n"
			"Try 'ubinder-rpc --help'.\n",
			address);
		return 2;
	}
	socket_path = tool_socket_path("ubinder-rpc", args.socket, args.context, resolved,
				       sizeof(resolved), &bad);
	if (!socket_path && bad)
		return 2;
	if (tls_files.cert && !(tls = rpc_tls_new(&tls_files, exporting)))
		return 2;
	layouts = load_layouts(layout_file);
	if (!layouts) {
		rpc_tls_free(tls);
		return layout_file ? 2 : 1;
	}

	signal(SIGPIPE, SIG_IGN);
	err = ubinder_context_open(socket_path, &ctx);
	if (err) {
		fprintf(stderr, "ubinder-rpc: cannot open the context: %s\n",
			ubinder_strerror(err));
		rpc_layouts_free(layouts);
		rpc_tls_free(tls);
		return 1;
	}
	if (exporting) {
		struct rpc_export_config c = { .socket = socket_path,
					       .service = service,
					       .layouts = layouts,
					       .max_threads = EXPORT_THREADS,
					       .descriptors =
						       rpc_address_is_unix(listen_at) && !tls,
					       .tls = tls };

		status = run_export(ctx, listen_at, &c);
	} else {
		status = rpc_import_run(ctx, connect_to, tls, as, layouts, descriptors, &session);
	}
	ubinder_context_close(ctx);
	rpc_session_free(session);
	rpc_layouts_free(layouts);
	rpc_tls_free(tls);
	return status;
}
