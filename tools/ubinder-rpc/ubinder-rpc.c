/* SPDX-License-Identifier: MIT */
/*
 * ubinder-rpc: serves a ubinder service to Android RPC Binder clients
 * (RpcSession, protocol version 1) on a Unix socket or TCP. A normal
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
#include "rpc_stream.h"
#include "socket-arg.h"
#include "ubinder/ubinder.h"

/* Sessions served at once; further connections wait in the backlog. */
#define MAX_SESSIONS 32

static const char usage[] =
	"Usage: ubinder-rpc [OPTION]... export --listen ADDRESS --service NAME\n"
	"       ubinder-rpc [OPTION]... import --connect ADDRESS --as NAME\n"
	"Bridges ubinder and Android RPC Binder (RpcSession, protocol version 1).\n"
	"export serves the local service NAME as the root object of RPC sessions;\n"
	"import registers the root object of the RPC server at ADDRESS as the local\n"
	"service NAME. ADDRESS is unix:PATH or tcp:HOST:PORT.\n"
	"\n"
	"  --listen ADDRESS           where to serve (export); nothing is served by default\n"
	"  --service NAME             the local service to export\n"
	"  --connect ADDRESS          the RPC server to import from\n"
	"  --as NAME                  the name to register the imported object under\n"
	"  -s, --socket PATH          the context's socket (default: $UBINDER_SOCKET, else\n"
	"                             the default socket of the context)\n"
	"  -c, --context NAME         the context (binder, hwbinder, vndbinder, ...)\n"
	"  -h, --help                 this help\n"
	"  -V, --version              the version\n"
	"\n"
	"Parcels that carry binders or descriptors are refused (BAD_VALUE).\n"
	"Callers appear to the far side with the bridge's pid and uid.\n";

struct exporter {
	ubinder_binder *root;
	const char *name;
	int sessions; /* under lock */
	pthread_mutex_t lock;
	pthread_cond_t freed;
};

struct session_arg {
	struct exporter *e;
	int fd;
};

static void *session_thread(void *p)
{
	struct session_arg *a = p;
	struct exporter *e = a->e;

	rpc_export_session(a->fd, e->root, e->name);
	free(a);
	pthread_mutex_lock(&e->lock);
	e->sessions--;
	pthread_cond_signal(&e->freed);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static int serve(int lfd, struct exporter *e)
{
	for (;;) {
		struct session_arg *a;
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "ubinder-rpc: accept: %s\n", strerror(errno));
			return 1;
		}
		rpc_stream_no_delay(fd);
		pthread_mutex_lock(&e->lock);
		while (e->sessions >= MAX_SESSIONS)
			pthread_cond_wait(&e->freed, &e->lock);
		e->sessions++;
		pthread_mutex_unlock(&e->lock);
		a = malloc(sizeof(*a));
		if (a) {
			a->e = e;
			a->fd = fd;
		}
		if (!a || pthread_create(&t, NULL, session_thread, a)) {
			free(a);
			close(fd);
			pthread_mutex_lock(&e->lock);
			e->sessions--;
			pthread_mutex_unlock(&e->lock);
			continue;
		}
		pthread_detach(t);
	}
}

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

static int run_export(ubinder_context *ctx, const char *listen_at, const char *service)
{
	struct exporter e = { .lock = PTHREAD_MUTEX_INITIALIZER,
			      .freed = PTHREAD_COND_INITIALIZER };
	char bound[300];
	int err, lfd, status;

	err = ubinder_sm_check_service(ctx, service, &e.root);
	if (err || !e.root) {
		fprintf(stderr, "ubinder-rpc: no service named '%s'\n", service);
		return 1;
	}
	e.name = service;
	err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = ubinder_binder_link_to_death(e.root, service_died, (void *)service);
	if (err) {
		fprintf(stderr, "ubinder-rpc: cannot watch '%s': %s\n", service,
			ubinder_strerror(err));
		ubinder_binder_unref(e.root);
		return 1;
	}
	lfd = rpc_stream_open(listen_at, true);
	if (lfd < 0) {
		ubinder_binder_unref(e.root);
		return 1;
	}
	rpc_stream_bound_address(lfd, listen_at, bound, sizeof(bound));
	fprintf(stderr, "ubinder-rpc: serving '%s' on %s\n", service, bound);
	status = serve(lfd, &e);
	close(lfd);
	ubinder_binder_unref(e.root);
	return status;
}

static int run_import(ubinder_context *ctx, const char *connect_to, const char *name)
{
	struct rpc_import *im;
	ubinder_binder *local;
	int fd, err;

	fd = rpc_stream_open(connect_to, false);
	if (fd < 0)
		return 1;
	im = rpc_import_open(fd, connect_to);
	if (!im)
		return 1;
	err = rpc_import_binder(im, ctx, &local);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = ubinder_sm_add_service(ctx, name, local);
	if (err) {
		fprintf(stderr, "ubinder-rpc: cannot register '%s': %s\n", name,
			ubinder_strerror(err));
		return 1;
	}
	fprintf(stderr, "ubinder-rpc: %s registered as '%s'\n", connect_to, name);
	for (;;)
		pause(); /* until the session ends, which ends the process */
}

int main(int argc, char **argv)
{
	static const struct option options[] = { TOOL_LONG_OPTIONS,
						 { "listen", required_argument, NULL, 'L' },
						 { "service", required_argument, NULL, 'S' },
						 { "connect", required_argument, NULL, 'C' },
						 { "as", required_argument, NULL, 'A' },
						 { NULL, 0, NULL, 0 } };
	struct tool_args args = { NULL, NULL };
	const char *listen_at = NULL, *service = NULL, *connect_to = NULL, *as = NULL;
	const char *socket_path, *cmd, *address;
	char resolved[108];
	ubinder_context *ctx;
	int opt, status, bad, err;
	bool exporting;

	while ((opt = getopt_long(argc, argv, TOOL_SHORT_OPTIONS, options, NULL)) != -1) {
		const char **slot = opt == 'L'	 ? &listen_at
				    : opt == 'S' ? &service
				    : opt == 'C' ? &connect_to
				    : opt == 'A' ? &as
						 : NULL;

		if (slot) {
			*slot = optarg;
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
	if (exporting ? !listen_at || !service || connect_to || as
		      : !connect_to || !as || listen_at || service)
		return usage_error(exporting ? "export takes --listen and --service"
					     : "import takes --connect and --as");
	address = exporting ? listen_at : connect_to;
	if (!rpc_address_valid(address)) {
		fprintf(stderr,
			"ubinder-rpc: bad address '%s' (want unix:PATH or tcp:HOST:PORT)\n"
			"Try 'ubinder-rpc --help'.\n",
			address);
		return 2;
	}
	socket_path = tool_socket_path("ubinder-rpc", args.socket, args.context, resolved,
				       sizeof(resolved), &bad);
	if (!socket_path && bad)
		return 2;

	signal(SIGPIPE, SIG_IGN);
	err = ubinder_context_open(socket_path, &ctx);
	if (err) {
		fprintf(stderr, "ubinder-rpc: cannot open the context: %s\n",
			ubinder_strerror(err));
		return 1;
	}
	status = exporting ? run_export(ctx, listen_at, service) : run_import(ctx, connect_to, as);
	ubinder_context_close(ctx);
	return status;
}
