/* SPDX-License-Identifier: MIT */
/*
 * ubinder-servicemanager in every Android generation: for each interface
 * token and transaction-code map, a client registers, lists, gets, checks,
 * waits for a service and receives a registration notification. The
 * requests are written here word by word in each generation's format (not
 * with the library's service manager client), and the replies are read the
 * same way. Then malformed requests, each with the error Android's manager
 * gives, and the library's own client at each API level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib-test.h"

#define SM  "android.os.IServiceManager"
#define CB  "android.os.IServiceCallback"
#define ALL 0x0f

/* One generation as a client speaks it. */
struct gen {
	const char *label;
	int header;			     /* 1: strict mode, 2: + work source, 3: + 'SYST' */
	const char *sm_opts;		     /* the manager's options ("" for none) */
	uint32_t get, check, add, list, reg; /* codes; reg 0: no notifications */
};

static const struct gen gens[] = {
	{ "android9", 1, "", 1, 2, 3, 4, 0 },
	{ "android10", 2, "", 1, 2, 3, 4, 0 },
	{ "android9 --api-level 28", 1, "--api-level=28", 1, 2, 3, 4, 0 },
	{ "android10 --api-level 29", 2, "--api-level=29", 1, 2, 3, 4, 0 },
	{ "android11-14", 3, "", 1, 2, 3, 4, 5 },
	{ "android11 --api-level 30", 3, "--api-level=30", 1, 2, 3, 4, 5 },
	{ "android12 --api-level 31", 3, "--api-level=31", 1, 2, 3, 4, 5 },
	{ "android15 (shape)", 3, "", 1, 3, 4, 5, 0 },
	{ "android16 (shape)", 3, "", 1, 3, 5, 6, 0 },
	{ "android15 --api-level 35", 3, "--api-level=35", 1, 3, 4, 5, 6 },
	{ "android16 --api-level 36", 3, "--api-level=36", 1, 3, 5, 6, 7 },
};

/* The header, written word by word. */
static ubinder_parcel *raw_request(int header, const char *descriptor)
{
	ubinder_parcel *p = ubinder_parcel_new();

	if (!p)
		return NULL;
	ubinder_parcel_write_uint32(p, header == 1 ? 0x00400000u : 0x80000000u);
	if (header >= 2)
		ubinder_parcel_write_int32(p, -1);
	if (header == 3)
		ubinder_parcel_write_uint32(p, UBINDER_PACK_CHARS('S', 'Y', 'S', 'T'));
	ubinder_parcel_write_string16_utf8(p, descriptor);
	/* Before Android 11, no stability word follows a binder. */
	ubinder_parcel_set_stability_word(p, header == 3);
	return p;
}

static int sm_transact(ubinder_context *ctx, uint32_t code, ubinder_parcel *data,
		       ubinder_parcel **reply)
{
	ubinder_binder *sm;
	int err = ubinder_sm_get(ctx, &sm);

	if (!err)
		err = ubinder_binder_transact(sm, code, data, 0, reply);
	ubinder_binder_unref(sm);
	ubinder_parcel_free(data);
	return err;
}

/* AIDL replies start with the status word 0. */
static int read_ok(const struct gen *g, ubinder_parcel *reply)
{
	int32_t ex = -1;

	if (g->header < 3)
		ubinder_parcel_set_stability_word(reply, false);
	else if (ubinder_parcel_read_int32(reply, &ex) || ex != 0)
		return -1;
	return 0;
}

static int raw_add(const struct gen *g, ubinder_context *ctx, const char *name, ubinder_binder *b)
{
	ubinder_parcel *data = raw_request(g->header, SM), *reply = NULL;
	int32_t word = -1;
	int err;

	ubinder_parcel_write_string16_utf8(data, name);
	ubinder_parcel_write_binder(data, b);
	ubinder_parcel_write_int32(data, 0);	  /* allowIsolated */
	ubinder_parcel_write_int32(data, 1 << 3); /* DUMP_FLAG_PRIORITY_DEFAULT */
	err = sm_transact(ctx, g->add, data, &reply);
	/* Android 10's manager answers the word 0, the AIDL one status 0. */
	if (!err && (ubinder_parcel_read_int32(reply, &word) || word != 0))
		err = -1;
	ubinder_parcel_free(reply);
	return err;
}

/* get or check: the binder (NULL if none); -1 on a malformed reply. */
static int raw_lookup(const struct gen *g, ubinder_context *ctx, uint32_t code, const char *name,
		      ubinder_binder **out)
{
	ubinder_parcel *data = raw_request(g->header, SM), *reply = NULL;
	int err;

	*out = NULL;
	ubinder_parcel_write_string16_utf8(data, name);
	err = sm_transact(ctx, code, data, &reply);
	if (!err)
		err = read_ok(g, reply);
	/* Android 10's manager answers an unknown name with the word 0. */
	if (!err && !(g->header < 3 && ubinder_parcel_get_object_count(reply) == 0))
		err = ubinder_parcel_read_binder(reply, out);
	ubinder_parcel_free(reply);
	return err;
}

/* Whether listServices names @name: all at once, or Android 10's by index. */
static bool raw_listed(const struct gen *g, ubinder_context *ctx, const char *name)
{
	bool found = false;

	for (int32_t i = 0; i < 1000 && !found; i++) {
		ubinder_parcel *data = raw_request(g->header, SM), *reply = NULL;
		int32_t n = 1;
		char *s = NULL;

		if (g->header < 3)
			ubinder_parcel_write_int32(data, i);
		ubinder_parcel_write_int32(data, ALL);
		if (sm_transact(ctx, g->list, data, &reply) || read_ok(g, reply)) {
			ubinder_parcel_free(reply);
			break; /* Android 10: past the end (-1) */
		}
		if (g->header == 3 && (ubinder_parcel_read_int32(reply, &n) || n < 0))
			n = 0;
		for (int32_t k = 0; k < n && !found; k++) {
			if (ubinder_parcel_read_string16_utf8(reply, &s))
				break;
			found = s && strcmp(s, name) == 0;
			free(s);
		}
		ubinder_parcel_free(reply);
		if (g->header == 3)
			break;
	}
	return found;
}

/* --- the registration callback ------------------------------------------------------- */

struct notified {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *name;
	ubinder_binder *binder;
};

static int on_registration(ubinder_binder *self, const struct ubinder_call *call,
			   ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	struct notified *n = userdata;
	ubinder_binder *b = NULL;
	char *name = NULL;

	(void)self;
	(void)reply;
	if (call->code != 1 || ubinder_parcel_enforce_interface(data, CB) ||
	    ubinder_parcel_read_string16_utf8(data, &name) || ubinder_parcel_read_binder(data, &b))
		return UBINDER_ERR_BAD_VALUE;
	pthread_mutex_lock(&n->lock);
	if (!n->name) {
		n->name = name;
		n->binder = b;
		name = NULL;
		b = NULL;
	}
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	free(name);
	ubinder_binder_unref(b);
	return 0;
}

static int raw_register(const struct gen *g, ubinder_context *ctx, const char *name,
			ubinder_binder *cb)
{
	ubinder_parcel *data = raw_request(g->header, SM), *reply = NULL;
	int err;

	ubinder_parcel_write_string16_utf8(data, name);
	ubinder_parcel_write_binder(data, cb);
	err = sm_transact(ctx, g->reg, data, &reply);
	if (!err)
		err = read_ok(g, reply);
	ubinder_parcel_free(reply);
	return err;
}

/* --- one generation end to end ------------------------------------------------------- */

struct late_args {
	const struct gen *g;
	struct sync go, added, done;
};

/* Another process registers "<label>.late" once told to, and stays until done. */
static int late_adder(void *arg)
{
	struct late_args *a = arg;
	ubinder_context *ctx = client_open(true);
	ubinder_binder *b = NULL;

	CHECK(ctx);
	CHECK(sync_wait(&a->go, 10000) == 1);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Late", NULL, NULL, NULL, &b));
	CHECK(raw_add(a->g, ctx, "gen.late", b) == 0);
	sync_post(&a->added, 1);
	CHECK(sync_wait(&a->done, 15000) == 1);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static int generation_client(void *arg)
{
	struct late_args *a = arg;
	const struct gen *g = a->g;
	struct notified n = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL };
	ubinder_context *ctx = client_open(true);
	ubinder_binder *svc = NULL, *cb = NULL, *got = NULL;
	long deadline;

	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Gen", NULL, NULL, NULL, &svc));
	/* register */
	CHECK(raw_add(g, ctx, "gen.svc", svc) == 0);
	/* list */
	CHECK(raw_listed(g, ctx, "gen.svc"));
	/* get, check: our own object comes back */
	CHECK(raw_lookup(g, ctx, g->get, "gen.svc", &got) == 0 && got == svc);
	ubinder_binder_unref(got);
	CHECK(raw_lookup(g, ctx, g->check, "gen.svc", &got) == 0 && got == svc);
	ubinder_binder_unref(got);
	CHECK(raw_lookup(g, ctx, g->check, "gen.none", &got) == 0 && !got);
	/* a notification for a name not there yet */
	if (g->reg) {
		CHECK_OK(ubinder_binder_new(ctx, CB, on_registration, &n, NULL, &cb));
		CHECK(raw_register(g, ctx, "gen.late", cb) == 0);
	}
	/* wait for a service another process registers */
	sync_post(&a->go, 1);
	deadline = now_ms() + 10000;
	if (g->reg) {
		pthread_mutex_lock(&n.lock);
		while (!n.name && now_ms() < deadline) {
			pthread_mutex_unlock(&n.lock);
			usleep(10000);
			pthread_mutex_lock(&n.lock);
		}
		CHECK(n.name && strcmp(n.name, "gen.late") == 0 && n.binder);
		pthread_mutex_unlock(&n.lock);
	} else {
		/* No notifications before Android 11: ask until it is there. */
		while (raw_lookup(g, ctx, g->check, "gen.late", &got) == 0 && !got &&
		       now_ms() < deadline)
			usleep(10000);
		CHECK(got);
		ubinder_binder_unref(got);
	}
	CHECK(sync_wait(&a->added, 10000) == 1);
	CHECK(raw_lookup(g, ctx, g->get, "gen.late", &got) == 0 && got);
	CHECK_OK(ubinder_binder_ping(got));
	ubinder_binder_unref(got);
	sync_post(&a->done, 1);
	free(n.name);
	ubinder_binder_unref(n.binder);
	ubinder_binder_unref(cb);
	ubinder_binder_unref(svc);
	ubinder_context_close(ctx);
	return 0;
}

/* Starts a daemon and a manager with @opts (one option or "") for a test. */
static void env_up(struct lib_env *e, const char *opts)
{
	const char *args[] = { opts, NULL };

	assert_int_equal(env_start_args(e, *opts ? args : NULL), 0);
}

/*
 * Once every client is gone, the manager holds nothing of theirs: no
 * reference, no death notification, no buffer (the daemon's counters).
 */
static bool manager_alone(struct lib_env *e)
{
	return env_wait_stat(e, "procs", 1, 5000) == 1 &&
	       env_wait_stat(e, "ref: active", 0, 5000) == 0 &&
	       env_wait_stat(e, "death: active", 0, 5000) == 0 &&
	       env_wait_stat(e, "buffers", 0, 5000) == 0;
}

static void one_generation(const struct gen *g)
{
	struct lib_env e;
	struct late_args a = { .g = g };
	pid_t late, client;
	int rc_client, rc_late, rc_env;
	bool alone;

	print_message("# %s\n", g->label);
	env_up(&e, g->sm_opts);
	sync_init(&a.go);
	sync_init(&a.added);
	sync_init(&a.done);
	late = lspawn(late_adder, &a);
	client = lspawn(generation_client, &a);
	rc_client = reap(client, 30000);
	/* Whatever the client did, let the other process go. */
	sync_post(&a.go, 1);
	sync_post(&a.done, 1);
	rc_late = reap(late, 20000);
	alone = manager_alone(&e);
	rc_env = env_stop(&e);
	assert_int_equal(rc_client, 0);
	assert_int_equal(rc_late, 0);
	assert_true(alone);
	assert_int_equal(rc_env, 0);
}

static void every_generation(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		one_generation(&gens[i]);
}

/* --- malformed requests ------------------------------------------------------------- */

static int raw_code(ubinder_context *ctx, uint32_t code, ubinder_parcel *data)
{
	ubinder_parcel *reply = NULL;
	int err = sm_transact(ctx, code, data, &reply);

	ubinder_parcel_free(reply);
	return err;
}

/* An addService of "bad.svc" with the name's length word replaced by @len. */
static ubinder_parcel *lying_add(int header, ubinder_binder *b, int32_t len)
{
	ubinder_parcel *p = raw_request(header, SM);

	ubinder_parcel_write_int32(p, len);
	ubinder_parcel_write_int32(p, 0x00610062); /* "ba" */
	ubinder_parcel_write_binder(p, b);
	ubinder_parcel_write_int32(p, 0);
	ubinder_parcel_write_int32(p, 8);
	return p;
}

static int bad_input_client(void *arg)
{
	static const struct gen aidl = { "aidl", 3, "", 1, 2, 3, 4, 5 };
	static const struct gen legacy = { "legacy", 1, "", 1, 2, 3, 4, 0 };
	ubinder_context *ctx = client_open(true);
	ubinder_binder *b = NULL, *got = NULL;
	ubinder_parcel *p;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Bad", NULL, NULL, NULL, &b));

	/* A truncated header: Android 10's manager answers -1 (PERMISSION_DENIED);
	 * with 'SYST' there, Android 11+'s answers BAD_TYPE. */
	p = ubinder_parcel_new();
	ubinder_parcel_write_int32(p, 0);
	CHECK(raw_code(ctx, 1, p) == UBINDER_ERR_PERMISSION_DENIED);
	p = ubinder_parcel_new();
	ubinder_parcel_write_int32(p, 0);
	ubinder_parcel_write_int32(p, -1);
	ubinder_parcel_write_uint32(p, UBINDER_PACK_CHARS('S', 'Y', 'S', 'T'));
	CHECK(raw_code(ctx, 2, p) == UBINDER_ERR_BAD_TYPE);

	/* Another interface's descriptor. */
	p = raw_request(3, "android.os.IServiceManagerX");
	ubinder_parcel_write_string16_utf8(p, "x");
	CHECK(raw_code(ctx, 2, p) == UBINDER_ERR_BAD_TYPE);
	p = raw_request(2, "android.os.IFoo");
	ubinder_parcel_write_string16_utf8(p, "x");
	CHECK(raw_code(ctx, 2, p) == UBINDER_ERR_PERMISSION_DENIED);

	/* A lying string length: libbinder's readUtf8FromUtf16 gives UNEXPECTED_NULL. */
	CHECK(raw_code(ctx, 3, lying_add(3, b, 1000)) == UBINDER_ERR_UNEXPECTED_NULL);
	CHECK(raw_code(ctx, 3, lying_add(3, b, -5)) == UBINDER_ERR_UNEXPECTED_NULL);
	CHECK(raw_code(ctx, 3, lying_add(1, b, 1000)) == UBINDER_ERR_PERMISSION_DENIED);

	/* Unknown codes. */
	CHECK(raw_code(ctx, 99, raw_request(3, SM)) == UBINDER_ERR_UNKNOWN_TRANSACTION);
	CHECK(raw_code(ctx, 99, raw_request(1, "nothing")) == UBINDER_ERR_PERMISSION_DENIED);
	CHECK(raw_code(ctx, 5, raw_request(2, SM)) == UBINDER_ERR_PERMISSION_DENIED);

	/* A truncated argument: a missing int. */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "bad.svc");
	ubinder_parcel_write_binder(p, b);
	CHECK(raw_code(ctx, 3, p) == UBINDER_ERR_NOT_ENOUGH_DATA);

	/* Nothing was registered, and the manager still serves. */
	CHECK(!raw_listed(&aidl, ctx, "bad.svc") && !raw_listed(&legacy, ctx, "bad.svc"));
	CHECK(raw_lookup(&aidl, ctx, 2, "bad.svc", &got) == 0 && !got);
	CHECK(raw_add(&aidl, ctx, "good.svc", b) == 0);
	CHECK(raw_listed(&legacy, ctx, "good.svc"));
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void bad_input(void **state)
{
	struct lib_env e;

	(void)state;
	env_up(&e, "");
	assert_int_equal(reap(lspawn(bad_input_client, NULL), 20000), 0);
	assert_true(manager_alone(&e));
	assert_int_equal(env_stop(&e), 0);
}

/* With --api-level, only that level's token is accepted. */
static int strict_client(void *arg)
{
	int level = *(const int *)arg;
	ubinder_context *ctx = client_open(true);
	ubinder_parcel *p;

	CHECK(ctx);
	p = raw_request(level >= 30 ? 1 : 3, SM);
	ubinder_parcel_write_string16_utf8(p, "x");
	CHECK(raw_code(ctx, 2, p) ==
	      (level >= 30 ? UBINDER_ERR_BAD_TYPE : UBINDER_ERR_PERMISSION_DENIED));
	ubinder_context_close(ctx);
	return 0;
}

static void api_level_is_strict(void **state)
{
	static const int levels[] = { 29, 34 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct lib_env e;

		env_up(&e, levels[i] == 29 ? "--api-level=29" : "--api-level=34");
		assert_int_equal(reap(lspawn(strict_client, (void *)&levels[i]), 20000), 0);
		assert_int_equal(env_stop(&e), 0);
	}
}

/* --- the other AIDL methods ------------------------------------------------------------ */

static int declared_client(void *arg)
{
	const struct gen g = { "android14", 3, "", 1, 2, 3, 4, 5 };
	ubinder_context *ctx = client_open(true);
	ubinder_parcel *p, *reply = NULL;
	ubinder_binder *b = NULL;
	int32_t n = -1, pid = 0;
	bool yes = false;
	char *s = NULL;

	(void)arg;
	CHECK(ctx);
	/* isDeclared (7) */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "org.test.IFoo/default");
	CHECK(sm_transact(ctx, 7, p, &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_bool(reply, &yes) == 0 && yes);
	ubinder_parcel_free(reply);
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "org.test.IFoo/other");
	CHECK(sm_transact(ctx, 7, p, &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_bool(reply, &yes) == 0 && !yes);
	ubinder_parcel_free(reply);
	/* getDeclaredInstances (8) */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "org.test.IFoo");
	CHECK(sm_transact(ctx, 8, p, &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_int32(reply, &n) == 0 && n == 2);
	CHECK(ubinder_parcel_read_string16_utf8(reply, &s) == 0 && !strcmp(s, "default"));
	free(s);
	ubinder_parcel_free(reply);
	/* updatableViaApex (9) */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "org.test.IFoo/second");
	CHECK(sm_transact(ctx, 9, p, &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_string16_utf8(reply, &s) == 0 && s && !strcmp(s, "com.test"));
	free(s);
	ubinder_parcel_free(reply);
	/* getUpdatableNames (10) */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "com.test");
	CHECK(sm_transact(ctx, 10, p, &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_int32(reply, &n) == 0 && n == 1);
	ubinder_parcel_free(reply);
	/* getConnectionInfo (11): null */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "org.test.IFoo/default");
	CHECK(sm_transact(ctx, 11, p, &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_int32(reply, &n) == 0 && n == 0);
	ubinder_parcel_free(reply);
	/* getServiceDebugInfo (14): our pid */
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Dbg", NULL, NULL, NULL, &b));
	CHECK(raw_add(&g, ctx, "dbg.svc", b) == 0);
	CHECK(sm_transact(ctx, 14, raw_request(3, SM), &reply) == 0 && read_ok(&g, reply) == 0);
	CHECK(ubinder_parcel_read_int32(reply, &n) == 0 && n == 1);
	CHECK(ubinder_parcel_read_int32(reply, &n) == 0 && n == 1); /* non-null */
	CHECK(ubinder_parcel_read_int32(reply, &n) == 0 && n > 0);  /* size */
	CHECK(ubinder_parcel_read_string16_utf8(reply, &s) == 0 && !strcmp(s, "dbg.svc"));
	CHECK(ubinder_parcel_read_int32(reply, &pid) == 0 && pid == getpid());
	free(s);
	ubinder_parcel_free(reply);
	/* tryUnregisterService (13) by its owner */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "dbg.svc");
	ubinder_parcel_write_binder(p, b);
	CHECK(sm_transact(ctx, 13, p, &reply) == 0 && read_ok(&g, reply) == 0);
	ubinder_parcel_free(reply);
	CHECK(!raw_listed(&g, ctx, "dbg.svc"));
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void declared_and_debug(void **state)
{
	char path[] = "/tmp/ubinder-declared-XXXXXX", opt[64];
	struct lib_env e;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	dprintf(fd, "# declared instances\norg.test.IFoo/default\norg.test.IFoo/second "
		    "apex=com.test\n\norg.test.IBar/x\n");
	close(fd);
	snprintf(opt, sizeof(opt), "--declared=%s", path);
	env_up(&e, opt);
	assert_int_equal(reap(lspawn(declared_client, NULL), 20000), 0);
	assert_int_equal(env_stop(&e), 0);
	unlink(path);
}

/* --- getService2 / checkService2: the Service union --------------------------------- */

/* Reads a Service union reply: status, non-null 1, tag 0, then the member. */
static int read_service(int level, ubinder_parcel *reply, ubinder_binder **out)
{
	int32_t ex = -1, present = 0, tag = -1, size = 0;
	bool lazy = true;
	int err = ubinder_parcel_read_int32(reply, &ex);

	if (!err)
		err = ubinder_parcel_read_int32(reply, &present);
	if (!err)
		err = ubinder_parcel_read_int32(reply, &tag);
	if (!err && (ex != 0 || present != 1 || tag != 0))
		err = -1;
	/* Android 16: ServiceWithMetadata { binder; boolean isLazyService; } */
	if (!err && level >= 36)
		err = ubinder_parcel_read_int32(reply, &size);
	if (!err)
		err = ubinder_parcel_read_binder(reply, out);
	if (!err && level >= 36) {
		err = ubinder_parcel_read_bool(reply, &lazy);
		if (!err && (lazy || size != 4 + 28 + 4))
			err = -1;
	}
	return err;
}

static int union_client(void *arg)
{
	int level = *(const int *)arg;
	ubinder_context *ctx = client_open(true);
	const struct gen g = { "union", 3, "", 1, 3, level >= 36 ? 5 : 4, 0, 0 };
	ubinder_binder *b = NULL, *got = NULL;
	ubinder_parcel *p, *reply = NULL;
	uint32_t codes[] = { 2, level >= 36 ? 4 : 2 }; /* getService2, checkService2 */

	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Union", NULL, NULL, NULL, &b));
	CHECK(raw_add(&g, ctx, "union.svc", b) == 0);
	for (size_t i = 0; i < 2; i++) {
		p = raw_request(3, SM);
		ubinder_parcel_write_string16_utf8(p, "union.svc");
		CHECK(sm_transact(ctx, codes[i], p, &reply) == 0);
		CHECK(read_service(level, reply, &got) == 0 && got == b);
		ubinder_binder_unref(got);
		ubinder_parcel_free(reply);
		p = raw_request(3, SM);
		ubinder_parcel_write_string16_utf8(p, "union.none");
		CHECK(sm_transact(ctx, codes[i], p, &reply) == 0);
		CHECK(read_service(level, reply, &got) == 0 && !got);
		ubinder_parcel_free(reply);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void service_union(void **state)
{
	static const int levels[] = { 35, 36 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct lib_env e;

		env_up(&e, levels[i] == 35 ? "--api-level=35" : "--api-level=36");
		assert_int_equal(reap(lspawn(union_client, (void *)&levels[i]), 20000), 0);
		assert_int_equal(env_stop(&e), 0);
	}
}

/* --- the library's client at each level --------------------------------------------- */

static int library_client(void *arg)
{
	int level = *(const int *)arg;
	ubinder_context *ctx = client_open(true);
	ubinder_binder *b = NULL, *got = NULL;
	char **names = NULL;
	size_t n = 0;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_set_api_level(ctx, level));
	CHECK(ubinder_sm_get_api_level(ctx) == level);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Lib", NULL, NULL, NULL, &b));
	CHECK_OK(ubinder_sm_add_service(ctx, "lib.svc", b));
	CHECK_OK(ubinder_sm_list_services(ctx, &names, &n));
	CHECK(n == 1 && !strcmp(names[0], "lib.svc"));
	ubinder_sm_free_names(names);
	CHECK_OK(ubinder_sm_check_service(ctx, "lib.svc", &got));
	CHECK(got == b);
	ubinder_binder_unref(got);
	CHECK(ubinder_sm_check_service(ctx, "lib.none", &got) == UBINDER_ERR_NAME_NOT_FOUND);
	CHECK_OK(ubinder_sm_wait_for_service(ctx, "lib.svc", 1000, &got));
	ubinder_binder_unref(got);
	CHECK(ubinder_sm_wait_for_service(ctx, "lib.none", 100, &got) == UBINDER_ERR_TIMED_OUT);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void library_every_level(void **state)
{
	static const int levels[] = { 28, 29, 30, 31, 33, 34, 35, 36 };

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		struct lib_env e;
		char opt[32];

		snprintf(opt, sizeof(opt), "--api-level=%d", levels[i]);
		/* Android 15/16's codes 6 and up need the manager told. */
		env_up(&e, levels[i] >= 35 ? opt : "");
		assert_int_equal(reap(lspawn(library_client, (void *)&levels[i]), 20000), 0);
		assert_int_equal(env_stop(&e), 0);
	}
}

/* --- registerClientCallback: onClients when a service gains and loses clients ---------- */

struct clients_args {
	struct sync ready, events, got, release, done;
};

/* IClientCallback.onClients(service, hasClients): posts 2 (true) or 1 (false). */
static int on_clients(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		      ubinder_parcel *reply, void *userdata)
{
	struct clients_args *a = userdata;
	ubinder_binder *b = NULL;
	bool has = false;

	(void)self;
	(void)reply;
	if (call->code != 1 ||
	    ubinder_parcel_enforce_interface(data, "android.os.IClientCallback") ||
	    ubinder_parcel_read_binder(data, &b) || !b || ubinder_parcel_read_bool(data, &has))
		sync_post(&a->events, 9);
	else
		sync_post(&a->events, has ? 2 : 1);
	ubinder_binder_unref(b);
	return 0;
}

/* Registers "cc.svc" and a client callback for it (Android 14's code 12), then waits. */
static int clients_service(void *arg)
{
	const struct gen g = { "android14", 3, "", 1, 2, 3, 4, 5 };
	struct clients_args *a = arg;
	ubinder_context *ctx = client_open(true);
	ubinder_binder *svc = NULL, *cb = NULL;
	ubinder_parcel *p, *reply = NULL;

	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.Clients", NULL, NULL, NULL, &svc));
	CHECK_OK(ubinder_binder_new(ctx, "android.os.IClientCallback", on_clients, a, NULL, &cb));
	CHECK(raw_add(&g, ctx, "cc.svc", svc) == 0);
	/* Another process's object is refused. */
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "cc.svc");
	ubinder_parcel_write_binder(p, cb);
	ubinder_parcel_write_binder(p, cb);
	CHECK(sm_transact(ctx, 12, p, &reply) == 0 && read_ok(&g, reply) != 0);
	ubinder_parcel_free(reply);
	p = raw_request(3, SM);
	ubinder_parcel_write_string16_utf8(p, "cc.svc");
	ubinder_parcel_write_binder(p, svc);
	ubinder_parcel_write_binder(p, cb);
	CHECK(sm_transact(ctx, 12, p, &reply) == 0 && read_ok(&g, reply) == 0);
	ubinder_parcel_free(reply);
	sync_post(&a->ready, 1);
	CHECK(sync_wait(&a->done, 20000) == 1);
	ubinder_binder_unref(cb);
	ubinder_binder_unref(svc);
	ubinder_context_close(ctx);
	return 0;
}

/* Gets "cc.svc" and holds it until told to let go. */
static int clients_getter(void *arg)
{
	const struct gen g = { "android14", 3, "", 1, 2, 3, 4, 5 };
	struct clients_args *a = arg;
	ubinder_context *ctx = client_open(true);
	ubinder_binder *b = NULL;

	CHECK(ctx);
	CHECK(raw_lookup(&g, ctx, 1, "cc.svc", &b) == 0 && b);
	sync_post(&a->got, 1);
	CHECK(sync_wait(&a->release, 20000) == 1);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void client_callbacks(void **state)
{
	struct clients_args a;
	struct lib_env e;
	pid_t svc, getter;
	uint32_t first, second;
	int rc_getter, rc_svc;

	(void)state;
	sync_init(&a.ready);
	sync_init(&a.events);
	sync_init(&a.got);
	sync_init(&a.release);
	sync_init(&a.done);
	env_up(&e, "--client-interval=50");
	svc = lspawn(clients_service, &a);
	assert_int_equal(sync_wait(&a.ready, 10000), 1);
	getter = lspawn(clients_getter, &a);
	assert_int_equal(sync_wait(&a.got, 10000), 1);
	first = sync_wait(&a.events, 5000);
	/* The getter lets go: the service loses its only client. */
	sync_post(&a.release, 1);
	rc_getter = reap(getter, 10000);
	second = sync_wait(&a.events, 5000);
	sync_post(&a.done, 1);
	rc_svc = reap(svc, 10000);
	assert_int_equal(first, 2);
	assert_int_equal(second, 1);
	assert_int_equal(rc_getter, 0);
	assert_int_equal(rc_svc, 0);
	assert_true(manager_alone(&e));
	assert_int_equal(env_stop(&e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_generation),    cmocka_unit_test(bad_input),
		cmocka_unit_test(api_level_is_strict), cmocka_unit_test(declared_and_debug),
		cmocka_unit_test(service_union),       cmocka_unit_test(library_every_level),
		cmocka_unit_test(client_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
