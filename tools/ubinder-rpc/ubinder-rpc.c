/* SPDX-License-Identifier: MIT */
/*
 * ubinder-rpc: serves a ubinder service to Android RPC Binder clients
 * (RpcSession, protocol version 1) on a Unix socket or TCP. A normal
 * libubinder client of its ubinderd. docs/rpc.md is the manual.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc_export.h"
#include "socket-arg.h"
#include "ubinder/ubinder.h"

/* Sessions served at once; further connections wait in the backlog. */
#define MAX_SESSIONS 32

static const char usage[] =
	"Usage: ubinder-rpc [OPTION]... export --listen ADDRESS --service NAME\n"
	"Serves the ubinder service NAME to Android RPC Binder clients (RpcSession,\n"
	"protocol version 1) as the root object of their sessions.\n"
	"\n"
	"  --listen ADDRESS           unix:PATH (a new socket) or tcp:HOST:PORT; both\n"
	"                             must be given, nothing is served by default\n"
	"  --service NAME             the service to export (the root object)\n"
	"  -s, --socket PATH          the context's socket (default: $UBINDER_SOCKET, else\n"
	"                             the default socket of the context)\n"
	"  -c, --context NAME         the context (binder, hwbinder, vndbinder, ...)\n"
	"  -h, --help                 this help\n"
	"  -V, --version              the version\n"
	"\n"
	"Parcels that carry binders or descriptors are refused (BAD_VALUE).\n"
	"Callers appear to the service with the bridge's pid and uid.\n";

struct export
{
	ubinder_binder *root;
	const char *name;
	int sessions; /* under lock */
	pthread_mutex_t lock;
	pthread_cond_t freed;
};

struct session_arg {
	struct export *e;
	int fd;
};

static void *session_thread(void *p)
{
	struct session_arg *a = p;
	struct export *e = a->e;

	rpc_export_session(a->fd, e->root, e->name);
	free(a);
	pthread_mutex_lock(&e->lock);
	e->sessions--;
	pthread_cond_signal(&e->freed);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ubinder-rpc: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		fprintf(stderr, "ubinder-rpc: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *hostport)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	const char *colon = strrchr(hostport, ':');
	char host[256];
	int fd = -1, one = 1, err;

	if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host) ||
	    !colon[1]) {
		fprintf(stderr, "ubinder-rpc: bad TCP address '%s' (want tcp:HOST:PORT)\n",
			hostport);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		fprintf(stderr, "ubinder-rpc: %s: %s\n", hostport, gai_strerror(err));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
		fprintf(stderr, "ubinder-rpc: cannot listen on %s: %s\n", hostport,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static bool valid_address(const char *address)
{
	return (!strncmp(address, "unix:", 5) && address[5]) || !strncmp(address, "tcp:", 4);
}

static int open_listener(const char *address)
{
	return !strncmp(address, "unix:", 5) ? listen_unix(address + 5) : listen_tcp(address + 4);
}

static int serve(int lfd, struct export *e)
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

int main(int argc, char **argv)
{
	static const struct option options[] = { TOOL_LONG_OPTIONS,
						 { "listen", required_argument, NULL, 'L' },
						 { "service", required_argument, NULL, 'S' },
						 { NULL, 0, NULL, 0 } };
	struct tool_args args = { NULL, NULL };
	const char *listen_at = NULL, *service = NULL, *socket_path;
	struct export e = { .lock = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER };
	char resolved[108];
	ubinder_context *ctx;
	int opt, status, bad, lfd, err;

	while ((opt = getopt_long(argc, argv, TOOL_SHORT_OPTIONS, options, NULL)) != -1) {
		if (opt == 'L') {
			listen_at = optarg;
			continue;
		}
		if (opt == 'S') {
			service = optarg;
			continue;
		}
		if (!tool_common_option(opt, &args, "ubinder-rpc", usage, &status))
			status = 2;
		if (status >= 0)
			return status;
	}
	if (optind >= argc)
		return usage_error("missing command");
	if (strcmp(argv[optind], "export") || optind + 1 != argc)
		return usage_error("the only command is 'export'");
	if (!listen_at || !service)
		return usage_error("export needs --listen and --service");
	if (!valid_address(listen_at)) {
		fprintf(stderr,
			"ubinder-rpc: bad address '%s' (want unix:PATH or tcp:HOST:PORT)\n"
			"Try 'ubinder-rpc --help'.\n",
			listen_at);
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
	err = ubinder_sm_check_service(ctx, service, &e.root);
	if (err || !e.root) {
		fprintf(stderr, "ubinder-rpc: no service named '%s'\n", service);
		ubinder_context_close(ctx);
		return 1;
	}
	e.name = service;
	lfd = open_listener(listen_at);
	if (lfd < 0) {
		ubinder_binder_unref(e.root);
		ubinder_context_close(ctx);
		return 1;
	}
	status = serve(lfd, &e);
	close(lfd);
	ubinder_binder_unref(e.root);
	ubinder_context_close(ctx);
	return status;
}
