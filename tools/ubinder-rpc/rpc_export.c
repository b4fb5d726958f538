/* SPDX-License-Identifier: MIT */
/*
 * The export's connections (rpc_export.h). Each accepted connection has a
 * thread for its handshake: a new session's first connection then serves
 * it and, when the session ends, tears it down; a joining connection is
 * added to its session (a serving one keeps its thread). At most
 * MAX_CONNECTIONS threads at once: further connections wait in the backlog.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_export.h"
#include "rpc_session.h"
#include "rpc_stream.h"
#include "rpc_wire.h"

#define MAX_CONNECTIONS 64
#define HANDSHAKE_S	5

struct live {
	struct rpc_session *s;
	bool fds; /* its fd transport mode is Unix */
	uint8_t id[RPC_SESSION_ID_SIZE];
	struct live *next;
};

static const struct rpc_export_config *config;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static struct live *sessions; /* under lock */
static unsigned threads;      /* under lock */

static const char *exported_name(void)
{
	return config->service ? config->service : "the service manager";
}

static void refuse(const char *why)
{
	fprintf(stderr, "ubinder-rpc: %s: closing a session: %s\n", exported_name(), why);
}

/* A new session on @st, after its header @h: served here until it ends. */
static void new_session(struct rpc_stream *st, const struct rpc_connection_header *h)
{
	uint8_t buf[RPC_NEW_SESSION_RESPONSE_SIZE];
	struct rpc_session_config sc = { .layouts = config->layouts,
					 .name = exported_name(),
					 .server = true,
					 .max_threads = config->max_threads };
	struct live l = { 0 };
	struct rpc_session_stats stats;
	ubinder_context *ctx = NULL;
	ubinder_binder *root = NULL;
	int err;

	rpc_encode_new_session_response(buf, RPC_WIRE_VERSION);
	if (rpc_write_full(st, buf, sizeof(buf)) ||
	    rpc_read_full(st, buf, RPC_CONNECTION_INIT_SIZE))
		goto fail;
	if (!rpc_is_connection_init(buf, RPC_CONNECTION_INIT_SIZE)) {
		refuse("no connection init");
		goto fail;
	}
	if (getrandom(l.id, sizeof(l.id), 0) != (ssize_t)sizeof(l.id))
		goto fail;
	/* the session's own Binder process: its stand-ins die with it */
	err = ubinder_context_open(config->socket, &ctx);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = config->service ? ubinder_sm_check_service(ctx, config->service, &root)
				      : ubinder_sm_get(ctx, &root);
	if (err || !root) {
		fprintf(stderr, "ubinder-rpc: %s is gone: %s\n", exported_name(),
			ubinder_strerror(err ? err : UBINDER_ERR_NAME_NOT_FOUND));
		goto fail;
	}
	sc.ctx = ctx;
	sc.root = root;
	sc.id = l.id;
	sc.fds = l.fds = h->fd_mode == RPC_FD_MODE_UNIX;
	l.s = rpc_session_new(&sc);
	if (!l.s)
		goto fail;
	pthread_mutex_lock(&lock);
	l.next = sessions;
	sessions = &l;
	pthread_mutex_unlock(&lock);

	/* this thread watches for hang-ups and gives counts back; the first
	 * connection is served like any other */
	if (rpc_session_serve_async(l.s, st))
		rpc_session_end(l.s);
	rpc_session_watch(l.s);
	rpc_session_get_stats(l.s, &stats);
	fprintf(stderr,
		"ubinder-rpc: %s: a session ended (the peer held %u of our objects, we %u of "
		"its; %u DEC_STRONG ignored)\n",
		exported_name(), stats.exported, stats.standins, stats.bad_dec_strong);

	pthread_mutex_lock(&lock);
	for (struct live **pp = &sessions; *pp; pp = &(*pp)->next) {
		if (*pp == &l) {
			*pp = l.next;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	ubinder_binder_unref(root);
	ubinder_context_close(ctx);
	rpc_session_free(l.s);
	return;
fail:
	rpc_stream_close(st);
	ubinder_binder_unref(root);
	if (ctx)
		ubinder_context_close(ctx);
}

/* A connection joining session @id. */
static void join_session(struct rpc_stream *st, const struct rpc_connection_header *h)
{
	uint8_t id[RPC_SESSION_ID_SIZE], init[RPC_CONNECTION_INIT_SIZE];
	struct rpc_session *s = NULL;

	if (rpc_read_full(st, id, sizeof(id))) {
		rpc_stream_close(st);
		return;
	}
	/* the session stays while this thread adds to it: its first
	 * connection's thread removes it from the list before freeing it, and
	 * waits for its serving threads, which this one joins under the lock */
	pthread_mutex_lock(&lock);
	for (struct live *l = sessions; l; l = l->next) {
		if (!memcmp(l->id, id, sizeof(id)) && l->fds == (h->fd_mode == RPC_FD_MODE_UNIX))
			s = l->s;
	}
	if (!s) {
		pthread_mutex_unlock(&lock);
		refuse("a join of an unknown session (or in another fd mode)");
		rpc_stream_close(st);
		return;
	}
	if (h->options & RPC_CONNECTION_OPTION_INCOMING) {
		/* calls from us to the client: we send the init */
		rpc_encode_connection_init(init);
		if (rpc_write_full(st, init, sizeof(init)))
			rpc_stream_close(st);
		else
			rpc_session_add_calling(s, st); /* closes @st on failure */
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	/* an outgoing connection of the client's: it sends the init, we serve */
	if (rpc_read_full(st, init, sizeof(init)) ||
	    !rpc_is_connection_init(init, RPC_CONNECTION_INIT_SIZE)) {
		refuse("no connection init");
		rpc_stream_close(st);
		return;
	}
	pthread_mutex_lock(&lock);
	for (struct live *l = sessions; l; l = l->next) {
		if (l->s == s) {
			/* served on a thread of its own, since this one holds
			 * the lock; that takes (and on failure closes) @st */
			rpc_session_serve_async(s, st);
			st = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	rpc_stream_close(st);
}

static void *conn_thread(void *p)
{
	/* the TLS handshake, if any, then the RPC one: HANDSHAKE_S each */
	struct rpc_stream *st = rpc_stream_accepted((int)(intptr_t)p, config->tls, HANDSHAKE_S);
	uint8_t buf[RPC_CONNECTION_HEADER_SIZE];
	struct rpc_connection_header h;
	int err;

	if (!st)
		goto out;
	rpc_stream_set_timeout(st, HANDSHAKE_S);
	if (rpc_read_full(st, buf, sizeof(buf))) {
		rpc_stream_close(st);
		goto out;
	}
	err = rpc_decode_connection_header(buf, sizeof(buf), &h);
	if (err || h.version < RPC_WIRE_VERSION ||
	    !(h.fd_mode == RPC_FD_MODE_NONE ||
	      (h.fd_mode == RPC_FD_MODE_UNIX && config->descriptors)) ||
	    (!h.session_id_size && (h.options & RPC_CONNECTION_OPTION_INCOMING))) {
		refuse(err ? rpc_wire_strerror(err)
			   : "unsupported connection (version, incoming new session or fd mode)");
		rpc_stream_close(st);
		goto out;
	}
	if (h.session_id_size)
		join_session(st, &h);
	else
		new_session(st, &h);
out:
	pthread_mutex_lock(&lock);
	threads--;
	pthread_cond_signal(&freed);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int rpc_export_serve(int lfd, const struct rpc_export_config *c)
{
	config = c;
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "ubinder-rpc: accept: %s\n", strerror(errno));
			return 1;
		}
		pthread_mutex_lock(&lock);
		while (threads >= MAX_CONNECTIONS)
			pthread_cond_wait(&freed, &lock);
		threads++;
		pthread_mutex_unlock(&lock);
		if (pthread_create(&t, NULL, conn_thread, (void *)(intptr_t)fd)) {
			close(fd);
			pthread_mutex_lock(&lock);
			threads--;
			pthread_mutex_unlock(&lock);
			continue;
		}
		pthread_detach(t);
	}
}
