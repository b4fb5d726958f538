/* SPDX-License-Identifier: MIT */
/*
 * TLS streams with pinned peer certificates (rpc_tls.h). Every SSL call
 * of a connection runs under its lock with the thread's error queue
 * cleared first, and never blocks: a call that wants the socket releases
 * the lock and polls, so a reader and a writer of one connection only
 * ever wait for the socket, not for each other.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "rpc_tls.h"

struct rpc_tls {
	SSL_CTX *ctx;
	STACK_OF(X509) * peers; /* the certificates a peer may present */
	bool server;
};

struct rpc_tls_conn {
	SSL *ssl;
	int fd;
	bool reported; /* a TLS error of this connection was printed */
	pthread_mutex_t lock;
	char peer[128];
};

/* The reason of the first error OpenSSL queued on this thread, into @buf
 * (an alert of the peer's said as such). */
static const char *ssl_reason_of(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	if (r && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
		snprintf(buf, size, "the peer refused it (%s): does it accept our certificate?", r);
	else
		snprintf(buf, size, "%s", r ? r : "unknown error");
	return buf;
}

#define ssl_reason() ssl_reason_of((char[160]){ 0 }, 160)

/* The contents of @path, at most RPC_TLS_MAX_FILE_SIZE bytes, as a memory
 * BIO; NULL after printing why. */
static BIO *read_file(const char *what, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	BIO *bio = NULL;
	char *buf = NULL;

	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "ubinder-rpc: %s %s: %s\n", what, path,
			f ? "not a regular file" : strerror(errno));
	} else if (st.st_size > RPC_TLS_MAX_FILE_SIZE) {
		fprintf(stderr, "ubinder-rpc: %s %s: larger than %d bytes\n", what, path,
			RPC_TLS_MAX_FILE_SIZE);
	} else if ((buf = malloc((size_t)st.st_size + 1)) &&
		   fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
		/* a copy: the BIO outlives @buf */
		bio = BIO_new(BIO_s_mem());
		if (bio && BIO_write(bio, buf, (int)st.st_size) != (int)st.st_size) {
			BIO_free(bio);
			bio = NULL;
		}
		if (!bio)
			fprintf(stderr, "ubinder-rpc: %s %s: out of memory\n", what, path);
	} else {
		fprintf(stderr, "ubinder-rpc: %s %s: cannot read it\n", what, path);
	}
	free(buf);
	if (f)
		fclose(f);
	return bio;
}

/* Reads every PEM certificate of @bio into @out (the first @max); the
 * number read, or -1 past @max. */
static int read_certs(BIO *bio, STACK_OF(X509) * out, int max)
{
	X509 *x;
	int n = 0;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (n == max || !sk_X509_push(out, x)) {
			X509_free(x);
			return -1;
		}
		n++;
	}
	ERR_clear_error(); /* the end of the file is queued as an error */
	return n;
}

/*
 * The whole chain verification: the peer's leaf must equal one of the
 * pinned certificates (X509_cmp compares their encodings). Self-signed,
 * expired or foreign-issued certificates are the peer's business, as in
 * libbinder, whose verifiers see only the leaf.
 */
static int verify_pinned(X509_STORE_CTX *x, void *arg)
{
	const struct rpc_tls *t = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(x);

	for (int i = 0; leaf && i < sk_X509_num(t->peers); i++) {
		if (!X509_cmp(sk_X509_value(t->peers, i), leaf))
			return 1;
	}
	X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/* Our certificate, its chain and key from the files into @ctx. */
static int use_own(SSL_CTX *ctx, const struct rpc_tls_files *f)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	BIO *cert = read_file("--tls-cert", f->cert), *key = NULL;
	EVP_PKEY *pkey = NULL;
	int n = cert && chain ? read_certs(cert, chain, RPC_TLS_MAX_PEER_CERTS) : -1, err = -1;

	if (n <= 0) {
		if (cert)
			fprintf(stderr, "ubinder-rpc: --tls-cert %s: no PEM certificate\n",
				f->cert);
		goto out;
	}
	if (!SSL_CTX_use_certificate(ctx, sk_X509_value(chain, 0))) {
		fprintf(stderr, "ubinder-rpc: --tls-cert %s: %s\n", f->cert, ssl_reason());
		goto out;
	}
	for (int i = 1; i < n; i++) {
		if (!SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)))
			goto out;
	}
	key = read_file("--tls-key", f->key);
	pkey = key ? PEM_read_bio_PrivateKey(key, NULL, NULL, NULL) : NULL;
	if (!pkey) {
		if (key)
			fprintf(stderr,
				"ubinder-rpc: --tls-key %s: no PEM private key (unencrypted)\n",
				f->key);
		goto out;
	}
	if (!SSL_CTX_use_PrivateKey(ctx, pkey) || !SSL_CTX_check_private_key(ctx)) {
		fprintf(stderr, "ubinder-rpc: --tls-key %s: %s (not the key of --tls-cert %s)\n",
			f->key, ssl_reason(), f->cert);
		goto out;
	}
	err = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(key);
	BIO_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return err;
}

struct rpc_tls *rpc_tls_new(const struct rpc_tls_files *files, bool server)
{
	struct rpc_tls *t = calloc(1, sizeof(*t));
	BIO *peers;
	int n;

	if (!t)
		return NULL;
	t->server = server;
	t->peers = sk_X509_new_null();
	t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!t->peers || !t->ctx || !SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION)) {
		fprintf(stderr, "ubinder-rpc: TLS: %s\n", ssl_reason());
		goto fail;
	}
	if (use_own(t->ctx, files))
		goto fail;
	peers = read_file("--tls-peer-cert", files->peer_cert);
	if (!peers)
		goto fail;
	n = read_certs(peers, t->peers, RPC_TLS_MAX_PEER_CERTS);
	BIO_free(peers);
	if (n <= 0) {
		fprintf(stderr,
			n ? "ubinder-rpc: --tls-peer-cert %s: more than %d certificates\n"
			  : "ubinder-rpc: --tls-peer-cert %s: no PEM certificate\n",
			files->peer_cert, RPC_TLS_MAX_PEER_CERTS);
		goto fail;
	}
	/* mutual: a server asks for the client's certificate and refuses a
	 * client without one; both check the peer's against the pinned ones */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
			   NULL);
	SSL_CTX_set_cert_verify_callback(t->ctx, verify_pinned, t);
	/* no resumption: every connection authenticates in full, and no
	 * ticket records arrive on a connection after its handshake */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(t->ctx, 0);
	/* a peer hanging up without close_notify ends the stream, as TCP */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	return t;
fail:
	rpc_tls_free(t);
	return NULL;
}

void rpc_tls_free(struct rpc_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	sk_X509_pop_free(t->peers, X509_free);
	free(t);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for what @ssl_err wants of the socket: 0 when it is there, -1 on a
 * timeout or an error that is not a wait (@ssl_err). */
static int wait_socket(int fd, int ssl_err, int timeout_ms)
{
	struct pollfd p = { .fd = fd };
	int n;

	if (ssl_err != SSL_ERROR_WANT_READ && ssl_err != SSL_ERROR_WANT_WRITE)
		return -1;
	p.events = ssl_err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
	while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

/* Prints a connection's TLS failure once; end-of-stream is not one. */
static void report(struct rpc_tls_conn *c, int ssl_err, const char *when)
{
	char buf[160];
	const char *why;
	long v;

	if (c->reported || (ssl_err != SSL_ERROR_SSL && strcmp(when, "handshake")))
		return;
	c->reported = true;
	v = SSL_get_verify_result(c->ssl);
	if (ssl_err == SSL_ERROR_SSL && v == X509_V_ERR_CERT_REJECTED)
		why = "its certificate is not one of --tls-peer-cert's";
	else if (ssl_err == SSL_ERROR_SSL)
		why = ssl_reason_of(buf, sizeof(buf));
	else
		why = "the peer hung up or spoke no TLS";
	fprintf(stderr, "ubinder-rpc: TLS %s with %s failed: %s\n", when, c->peer, why);
	ERR_clear_error();
}

/* How long a refused peer's bytes are read, at most, before the close. */
#define DRAIN_MS 250

/*
 * After a refused handshake: the alert OpenSSL wrote must reach the peer.
 * Closing a socket whose receive queue holds bytes the peer sent (a TLS 1.3
 * client sends its first data right after its Finished, before it learns
 * its certificate was refused) sends a reset, which can overtake the alert
 * and leave the peer with "connection reset" instead of the reason. So we
 * stop writing and read until the peer closes, DRAIN_MS at most.
 */
static void drain(int fd)
{
	int64_t end = now_ms() + DRAIN_MS;
	char buf[4096];

	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - now_ms());
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) != 1)
			return;
		r = read(fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return;
	}
}

struct rpc_tls_conn *rpc_tls_handshake(const struct rpc_tls *t, int fd, int timeout_ms,
				       const char *peer)
{
	struct rpc_tls_conn *c = calloc(1, sizeof(*c));
	int64_t deadline = now_ms() + timeout_ms;

	if (!c)
		return NULL;
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	pthread_mutex_init(&c->lock, NULL);
	ERR_clear_error();
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
		fprintf(stderr, "ubinder-rpc: TLS with %s: %s\n", peer, ssl_reason());
		goto fail;
	}
	if (t->server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	/* the whole handshake within the limit, however the peer trickles */
	for (;;) {
		int r = SSL_do_handshake(c->ssl), e, left;

		if (r == 1)
			return c;
		e = SSL_get_error(c->ssl, r);
		left = (int)(deadline - now_ms());
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			report(c, e, "handshake");
			if (e == SSL_ERROR_SSL)
				drain(fd);
			goto fail;
		}
		if (left <= 0 || wait_socket(fd, e, left)) {
			fprintf(stderr, "ubinder-rpc: TLS handshake with %s failed: timed out\n",
				peer);
			goto fail;
		}
	}
fail:
	ERR_clear_error();
	SSL_free(c->ssl);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

int rpc_tls_transfer(struct rpc_tls_conn *c, void *buf, size_t n, bool writing, int timeout_ms)
{
	uint8_t *p = buf;

	while (n) {
		size_t done = 0;
		int r, e = SSL_ERROR_NONE;

		pthread_mutex_lock(&c->lock);
		ERR_clear_error();
		r = writing ? SSL_write_ex(c->ssl, p, n, &done) : SSL_read_ex(c->ssl, p, n, &done);
		if (r != 1) {
			e = SSL_get_error(c->ssl, r);
			report(c, e, writing ? "write" : "read");
		}
		pthread_mutex_unlock(&c->lock);
		if (r == 1) {
			p += done;
			n -= done;
		} else if (wait_socket(c->fd, e, timeout_ms)) {
			return -1;
		}
	}
	return 0;
}

int rpc_tls_wait_readable(struct rpc_tls_conn *c, int partial_timeout_ms)
{
	for (;;) {
		uint8_t b;
		size_t got;
		int r, e = SSL_ERROR_NONE;
		bool partial = false;

		pthread_mutex_lock(&c->lock);
		ERR_clear_error();
		r = SSL_peek_ex(c->ssl, &b, 1, &got);
		if (r != 1) {
			e = SSL_get_error(c->ssl, r);
			report(c, e, "read");
			/* bytes of a record that has not come whole */
			partial = SSL_has_pending(c->ssl);
		}
		pthread_mutex_unlock(&c->lock);
		if (r == 1)
			return 0;
		if (wait_socket(c->fd, e, partial ? partial_timeout_ms : -1)) {
			if (partial && !c->reported) {
				c->reported = true;
				fprintf(stderr,
					"ubinder-rpc: TLS read with %s failed: the peer stopped "
					"mid-record\n",
					c->peer);
			}
			return -1;
		}
	}
}

void rpc_tls_conn_free(struct rpc_tls_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl); /* best effort: the socket does not block */
	ERR_clear_error();
	SSL_free(c->ssl);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
