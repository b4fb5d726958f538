/* SPDX-License-Identifier: MIT */
/*
 * HIDL end to end on a hwbinder context: the real ubinderd (-c binder -c
 * hwbinder), the real ubinder-hwservicemanager and real client and service
 * processes. A HIDL service registers (add, addWithChain), clients get it by
 * fqName/instance, list, listByInterface, receive registration notifications
 * (instance and package listeners), call it with scatter-gather arguments and
 * fd arrays, and see its death clean its entries. IBase on the manager and on
 * a service; 1.1/1.2 methods; bad input gets what Android's hwservicemanager
 * returns, registers nothing, and the manager keeps serving.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "managers/hwsm_protocol.h"
#include "lib-test.h"
#include "test-util.h"

#define ECHO_FQNAME  "vendor.ubinder.test@1.0::IEcho"
#define ECHO2_FQNAME "vendor.ubinder.test@1.1::IEcho"
#define ECHO_ECHO    1 /* (string) -> string */
#define ECHO_READ_FD 2 /* (handle) -> string: what the handle's first fd holds */

static struct ubd hd;
static pid_t hwsm;
static char hw_sock[160];

/* --- environment ------------------------------------------------------------------------ */

static int hwsm_ready_child(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500; i++) {
		ubinder_context *ctx;
		ubinder_binder *sm = NULL;
		int err = ubinder_context_open(NULL, &ctx);

		if (!err) {
			err = ubinder_sm_get(ctx, &sm);
			if (!err)
				err = ubinder_hidl_ping(sm);
			ubinder_binder_unref(sm);
			ubinder_context_close(ctx);
		}
		if (!err)
			return 0;
		poll(NULL, 0, 10);
	}
	return 1;
}

static int setup(void **state)
{
	static const char *const args[] = { "-c", "binder", "-c", "hwbinder", NULL };
	const char *bin = getenv("UBINDER_HWSERVICEMANAGER");

	(void)state;
	if (!bin || ubd_start(&hd, args))
		return -1;
	snprintf(hw_sock, sizeof(hw_sock), "%s/hwbinder", hd.dir);
	setenv("UBINDER_SOCKET", hw_sock, 1);
	hwsm = fork();
	if (hwsm < 0)
		return -1;
	if (hwsm == 0) {
		execl(bin, bin, "--socket", hw_sock, "--client-interval", "50", "--declare",
		      ECHO_FQNAME "/declared", (char *)NULL);
		_exit(127);
	}
	return reap(spawn(hwsm_ready_child, NULL), 10000) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	int status = 0;

	(void)state;
	if (hwsm > 0) {
		kill(hwsm, SIGTERM);
		status = reap(hwsm, 5000);
	}
	return ubd_stop(&hd) || status ? -1 : 0;
}

/* --- helpers (children) --------------------------------------------------------------- */

static ubinder_context *hw_open(void)
{
	return client_open(true);
}

/* A request to the manager with the token of @code's version. */
static ubinder_parcel *sm_request(uint32_t code)
{
	const char *token = code <= 8	? HWSM_DESCRIPTOR_1_0
			    : code == 9 ? HWSM_DESCRIPTOR_1_1
					: HWSM_DESCRIPTOR_1_2;
	ubinder_parcel *p = ubinder_parcel_new();

	if (p && ubinder_hidl_write_interface_token(p, token)) {
		ubinder_parcel_free(p);
		return NULL;
	}
	return p;
}

/* Sends @data (freed) to the manager; *reply positioned after the OK status. */
static int sm_send(ubinder_context *ctx, uint32_t code, ubinder_parcel *data,
		   ubinder_parcel **reply)
{
	ubinder_binder *sm = NULL;
	int err = data ? ubinder_sm_get(ctx, &sm) : UBINDER_ERR_NO_MEMORY;

	*reply = NULL;
	if (!err)
		err = ubinder_binder_transact(sm, code, data, 0, reply);
	if (!err)
		err = ubinder_hidl_read_status(*reply, NULL);
	ubinder_binder_unref(sm);
	ubinder_parcel_free(data);
	return err;
}

/* A call with up to two strings and @nb interfaces (NULL ones too), returning a bool. */
static int sm_bool(ubinder_context *ctx, uint32_t code, const char *s1, const char *s2,
		   ubinder_binder *b1, ubinder_binder *b2, int nb, bool *ok)
{
	ubinder_parcel *data = sm_request(code), *reply = NULL;
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (!err && s1)
		err = ubinder_hidl_write_string(data, s1);
	if (!err && s2)
		err = ubinder_hidl_write_string(data, s2);
	if (!err && nb > 0)
		err = ubinder_hidl_write_binder(data, b1);
	if (!err && nb > 1)
		err = ubinder_hidl_write_binder(data, b2);
	if (err) {
		ubinder_parcel_free(data);
		return err;
	}
	err = sm_send(ctx, code, data, &reply);
	if (!err)
		err = ubinder_parcel_read_bool(reply, ok);
	ubinder_parcel_free(reply);
	return err;
}

/* A call with up to one string returning vec<string>. */
static int sm_names(ubinder_context *ctx, uint32_t code, const char *s1, char ***names, size_t *n)
{
	ubinder_parcel *data = sm_request(code), *reply = NULL;
	int err = data && s1 ? ubinder_hidl_write_string(data, s1) : 0;

	if (err) {
		ubinder_parcel_free(data);
		return err;
	}
	err = sm_send(ctx, code, data, &reply);
	if (!err)
		err = ubinder_hidl_read_string_vec(reply, names, n);
	ubinder_parcel_free(reply);
	return err;
}

static bool has_name(char **names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

static bool listed(ubinder_context *ctx, const char *key)
{
	char **names = NULL;
	bool found = ubinder_hidl_sm_list(ctx, &names, NULL) == 0 && has_name(names, key);

	ubinder_hidl_free_strings(names);
	return found;
}

/* Waits (5 s at most) for @key to be listed (@want) or not. */
static bool wait_listed(ubinder_context *ctx, const char *key, bool want)
{
	for (int i = 0; i < 500; i++) {
		if (listed(ctx, key) == want)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

/* --- the echo service -------------------------------------------------------------------- */

static int echo_handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
			ubinder_parcel *reply, void *userdata)
{
	struct ubinder_hidl_native_handle h;
	const char *s;
	char buf[64] = "";
	ssize_t n;
	int err;

	(void)self;
	(void)userdata;
	err = ubinder_hidl_enforce_interface(data, ECHO_FQNAME);
	if (err)
		return err;
	switch (call->code) {
	case ECHO_ECHO:
		err = ubinder_hidl_read_string(data, &s, NULL);
		if (!err)
			err = ubinder_hidl_write_status(reply, 0, NULL);
		return err ? err : ubinder_hidl_write_string(reply, s);
	case ECHO_READ_FD:
		err = ubinder_hidl_read_native_handle(data, &h);
		if (err)
			return err;
		if (h.null || h.nfds < 1)
			return UBINDER_ERR_BAD_VALUE;
		n = read(h.fds[0], buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		err = ubinder_hidl_write_status(reply, 0, NULL);
		return err ? err : ubinder_hidl_write_string(reply, buf);
	default:
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	}
}

static const char *const echo_chain[] = { ECHO_FQNAME };

struct echo_opts {
	const char *name;
	bool with_chain; /* addWithChain (1.2) and a client callback */
	struct sync ready, stop, events;
};

static int client_cb_handler(ubinder_binder *self, const struct ubinder_call *call,
			     ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	struct echo_opts *o = userdata;
	ubinder_binder *server = NULL;
	bool has;
	int err;

	(void)self;
	(void)reply;
	err = ubinder_hidl_enforce_interface(data, HWSM_CLIENT_CALLBACK_DESCRIPTOR);
	if (!err && call->code == HWSM_ON_CLIENTS)
		err = ubinder_hidl_read_binder(data, &server);
	if (!err)
		err = ubinder_parcel_read_bool(data, &has);
	if (!err)
		sync_post(&o->events, has ? 11 : 10);
	ubinder_binder_unref(server);
	return err;
}

static int echo_service(void *arg)
{
	struct echo_opts *o = arg;
	const struct ubinder_hidl_interface iface = { echo_chain, 1, NULL, echo_handler, NULL };
	const struct ubinder_hidl_interface cbi = { (const char *const[]){
							    HWSM_CLIENT_CALLBACK_DESCRIPTOR },
						    1, NULL, client_cb_handler, NULL };
	ubinder_context *ctx = hw_open();
	ubinder_binder *self = NULL, *cb = NULL;
	uint32_t cmd;
	bool ok;

	if (!ctx)
		return 1;
	CHECK_OK(ubinder_hidl_object_new(ctx, &iface, NULL, NULL, &self));
	if (!o->with_chain) {
		CHECK_OK(ubinder_hidl_sm_add(ctx, o->name, self));
	} else {
		ubinder_parcel *data = sm_request(HWSM_ADD_WITH_CHAIN), *reply;
		const char *chain[] = { ECHO2_FQNAME, ECHO_FQNAME, UBINDER_HIDL_BASE_DESCRIPTOR };

		CHECK(data);
		CHECK_OK(ubinder_hidl_write_string(data, o->name));
		CHECK_OK(ubinder_hidl_write_binder(data, self));
		CHECK_OK(ubinder_hidl_write_string_vec(data, chain, 3));
		CHECK_OK(sm_send(ctx, HWSM_ADD_WITH_CHAIN, data, &reply));
		CHECK_OK(ubinder_parcel_read_bool(reply, &ok));
		ubinder_parcel_free(reply);
		CHECK(ok);
		CHECK_OK(ubinder_hidl_object_new(ctx, &cbi, o, NULL, &cb));
		CHECK_OK(sm_bool(ctx, HWSM_REGISTER_CLIENT_CALLBACK, ECHO2_FQNAME, o->name, self,
				 cb, 2, &ok));
		CHECK(ok);
	}
	sync_post(&o->ready, 1);
	/* 1: exit; 2: tryUnregister, reports 21 (true) or 20 (false);
	 * 3: unregisterClientCallback, reports 31 or 30. */
	while ((cmd = sync_wait(&o->stop, 20000)) == 2 || cmd == 3) {
		if (cmd == 2)
			CHECK_OK(sm_bool(ctx, HWSM_TRY_UNREGISTER, ECHO2_FQNAME, o->name, self,
					 NULL, 1, &ok));
		else
			CHECK_OK(sm_bool(ctx, HWSM_UNREGISTER_CLIENT_CALLBACK, NULL, NULL, self, cb,
					 2, &ok));
		sync_post(&o->events, (cmd == 2 ? 20 : 30) + (ok ? 1 : 0));
	}
	ubinder_binder_unref(cb);
	ubinder_binder_unref(self);
	ubinder_context_close(ctx);
	return cmd == 1 ? 0 : 1;
}

static pid_t echo_start(struct echo_opts *o, const char *name, bool with_chain)
{
	pid_t pid;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->with_chain = with_chain;
	sync_init(&o->ready);
	sync_init(&o->stop);
	sync_init(&o->events);
	pid = lspawn(echo_service, o);
	assert_true(pid > 0);
	assert_int_equal(sync_wait(&o->ready, 10000), 1);
	return pid;
}

static void echo_forget(struct echo_opts *o)
{
	struct sync *s[] = { &o->ready, &o->stop, &o->events };

	for (size_t i = 0; i < 3; i++) {
		close(s[i]->fds[0]);
		close(s[i]->fds[1]);
	}
}

/* --- IBase ---------------------------------------------------------------------------------- */

static const uint8_t ibase_hash_start[4] = { 0xec, 0x7f, 0xd7, 0x9e };

static int client_manager_ibase(void *arg)
{
	ubinder_context *ctx = hw_open();
	struct ubinder_hidl_debug_info info;
	ubinder_binder *sm = NULL, *self = NULL;
	uint8_t(*hashes)[32] = NULL;
	char **chain = NULL, *desc = NULL, **names = NULL;
	size_t n;
	int fds[2];

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_get(ctx, &sm));
	CHECK_OK(ubinder_hidl_ping(sm));
	CHECK_OK(ubinder_hidl_interface_chain(sm, &chain, &n));
	CHECK(n == 4 && strcmp(chain[0], HWSM_DESCRIPTOR_1_2) == 0 &&
	      strcmp(chain[2], HWSM_DESCRIPTOR_1_0) == 0 &&
	      strcmp(chain[3], UBINDER_HIDL_BASE_DESCRIPTOR) == 0);
	CHECK_OK(ubinder_hidl_interface_descriptor(sm, &desc));
	CHECK(strcmp(desc, HWSM_DESCRIPTOR_1_2) == 0);
	CHECK_OK(ubinder_hidl_get_debug_info(sm, &info));
	CHECK(info.pid == hwsm && info.arch != UBINDER_HIDL_ARCH_UNKNOWN);
	CHECK_OK(ubinder_hidl_get_hash_chain(sm, &hashes, &n));
	CHECK(n == 4 && memcmp(hashes[3], ibase_hash_start, 4) == 0 && hashes[0][0] == 0x6f);
	CHECK_OK(ubinder_hidl_notify_syspropschanged(sm));
	CHECK_OK(ubinder_hidl_set_hal_instrumentation(sm));
	CHECK(pipe(fds) == 0);
	CHECK_OK(ubinder_hidl_debug(sm, fds[1], (const char *const[]){ "-a" }, 1));
	CHECK_OK(ubinder_hidl_debug(sm, -1, NULL, 0));
	/* linkToDeath never travels: the manager does not know the code. */
	CHECK(ubinder_binder_transact(sm, UBINDER_HIDL_LINK_TO_DEATH_TRANSACTION, NULL, 0, NULL) ==
	      UBINDER_ERR_UNKNOWN_TRANSACTION);
	/* It is listed as its own default instance; the manager got by name is itself. */
	CHECK_OK(ubinder_hidl_sm_list(ctx, &names, NULL));
	CHECK(has_name(names, HWSM_DESCRIPTOR_1_0 "/default") &&
	      has_name(names, UBINDER_HIDL_BASE_DESCRIPTOR "/default"));
	CHECK_OK(ubinder_hidl_sm_get(ctx, HWSM_DESCRIPTOR_1_1, "default", &self));
	CHECK(self == sm);
	ubinder_hidl_free_strings(names);
	ubinder_binder_unref(self);
	close(fds[0]);
	close(fds[1]);
	free(hashes);
	free(desc);
	ubinder_hidl_free_strings(chain);
	ubinder_binder_unref(sm);
	ubinder_context_close(ctx);
	return 0;
}

static void manager_answers_ibase(void **state)
{
	(void)state;
	assert_int_equal(reap(lspawn(client_manager_ibase, NULL), 30000), 0);
}

/* --- registration, lookup, notification, death ---------------------------------------------- */

struct notify_opts {
	struct sync got;
};

/* IServiceNotification: posts 1 (new) or 2 (preexisting) for the echo fqName. */
static int notification_handler(ubinder_binder *self, const struct ubinder_call *call,
				ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	struct notify_opts *o = userdata;
	const char *fq, *name;
	bool pre;
	int err;

	(void)self;
	(void)reply;
	err = ubinder_hidl_enforce_interface(data, HWSM_NOTIFICATION_DESCRIPTOR);
	if (!err && call->code != HWSM_ON_REGISTRATION)
		err = UBINDER_ERR_UNKNOWN_TRANSACTION;
	if (!err)
		err = ubinder_hidl_read_string(data, &fq, NULL);
	if (!err)
		err = ubinder_hidl_read_string(data, &name, NULL);
	if (!err)
		err = ubinder_parcel_read_bool(data, &pre);
	if (!err && strcmp(fq, ECHO_FQNAME) == 0 && strcmp(name, "slot1") == 0)
		sync_post(&o->got, pre ? 2 : 1);
	return err;
}

struct listener_args {
	struct notify_opts n;
	struct sync ready, done;
	bool package; /* an empty name: every instance of the interface */
};

static int listener_child(void *arg)
{
	struct listener_args *a = arg;
	const struct ubinder_hidl_interface iface = { (const char *const[]){
							      HWSM_NOTIFICATION_DESCRIPTOR },
						      1, NULL, notification_handler, NULL };
	ubinder_context *ctx = hw_open();
	ubinder_binder *cb = NULL;
	bool ok = false;

	CHECK(ctx);
	CHECK_OK(ubinder_hidl_object_new(ctx, &iface, &a->n, NULL, &cb));
	CHECK_OK(sm_bool(ctx, HWSM_REGISTER_FOR_NOTIFICATIONS, ECHO_FQNAME,
			 a->package ? "" : "slot1", cb, NULL, 1, &ok));
	CHECK(ok);
	sync_post(&a->ready, 1);
	CHECK(sync_wait(&a->done, 20000) == 1);
	/* 1.1: unregistering works once, then finds nothing. */
	CHECK_OK(sm_bool(ctx, HWSM_UNREGISTER_FOR_NOTIFICATIONS, ECHO_FQNAME,
			 a->package ? "" : "slot1", cb, NULL, 1, &ok));
	CHECK(ok);
	CHECK_OK(sm_bool(ctx, HWSM_UNREGISTER_FOR_NOTIFICATIONS, ECHO_FQNAME,
			 a->package ? "" : "slot1", cb, NULL, 1, &ok));
	CHECK(!ok);
	ubinder_binder_unref(cb);
	ubinder_context_close(ctx);
	return 0;
}

static int client_uses_echo(void *arg)
{
	pid_t service_pid = *(pid_t *)arg;
	ubinder_context *ctx = hw_open();
	ubinder_binder *echo = NULL;
	ubinder_parcel *data, *reply = NULL;
	struct ubinder_hidl_native_handle h;
	char **names = NULL, **chain = NULL;
	const void *elems;
	const char *s;
	size_t n, eh;
	int32_t pid;
	int fds[2];
	bool found = false;

	CHECK(ctx);
	CHECK_OK(ubinder_hidl_sm_get(ctx, ECHO_FQNAME, "slot1", &echo));
	/* IBase on the service. */
	CHECK_OK(ubinder_hidl_interface_chain(echo, &chain, &n));
	CHECK(n == 2 && strcmp(chain[0], ECHO_FQNAME) == 0);
	ubinder_hidl_free_strings(chain);
	/* A call with a hidl_string both ways. */
	data = ubinder_parcel_new();
	CHECK_OK(ubinder_hidl_write_interface_token(data, ECHO_FQNAME));
	CHECK_OK(ubinder_hidl_write_string(data, "hello hidl"));
	CHECK_OK(ubinder_binder_transact(echo, ECHO_ECHO, data, 0, &reply));
	CHECK_OK(ubinder_hidl_read_status(reply, NULL));
	CHECK_OK(ubinder_hidl_read_string(reply, &s, NULL));
	CHECK(strcmp(s, "hello hidl") == 0);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	/* A large one: its buffers are copied out of our memory, not sent inline. */
	{
		size_t big_len = 300 * 1024;
		char *big = malloc(big_len + 1);

		CHECK(big);
		for (size_t i = 0; i < big_len; i++)
			big[i] = (char)('a' + i % 26);
		big[big_len] = '\0';
		data = ubinder_parcel_new();
		CHECK_OK(ubinder_hidl_write_interface_token(data, ECHO_FQNAME));
		CHECK_OK(ubinder_hidl_write_string(data, big));
		CHECK_OK(ubinder_binder_transact(echo, ECHO_ECHO, data, 0, &reply));
		CHECK_OK(ubinder_hidl_read_status(reply, NULL));
		CHECK_OK(ubinder_hidl_read_string(reply, &s, &n));
		CHECK(n == big_len && memcmp(s, big, big_len) == 0);
		ubinder_parcel_free(reply);
		ubinder_parcel_free(data);
		free(big);
	}
	/* A native handle: the fd array reaches the service as its own descriptor. */
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "through fda", 11) == 11);
	h = (struct ubinder_hidl_native_handle){ .fds = &fds[0], .nfds = 1 };
	data = ubinder_parcel_new();
	CHECK_OK(ubinder_hidl_write_interface_token(data, ECHO_FQNAME));
	CHECK_OK(ubinder_hidl_write_native_handle(data, &h));
	CHECK_OK(ubinder_binder_transact(echo, ECHO_READ_FD, data, 0, &reply));
	CHECK_OK(ubinder_hidl_read_status(reply, NULL));
	CHECK_OK(ubinder_hidl_read_string(reply, &s, NULL));
	CHECK(strcmp(s, "through fda") == 0);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	close(fds[0]);
	close(fds[1]);
	/* list, listByInterface, getTransport, debugDump. */
	CHECK(listed(ctx, ECHO_FQNAME "/slot1") &&
	      listed(ctx, UBINDER_HIDL_BASE_DESCRIPTOR "/slot1"));
	CHECK_OK(sm_names(ctx, HWSM_LIST_BY_INTERFACE, ECHO_FQNAME, &names, &n));
	CHECK(n == 1 && strcmp(names[0], "slot1") == 0);
	ubinder_hidl_free_strings(names);
	data = sm_request(HWSM_GET_TRANSPORT);
	CHECK_OK(ubinder_hidl_write_string(data, ECHO_FQNAME));
	CHECK_OK(ubinder_hidl_write_string(data, "slot1"));
	CHECK_OK(sm_send(ctx, HWSM_GET_TRANSPORT, data, &reply));
	CHECK_OK(ubinder_parcel_read_int32(reply, &pid));
	CHECK(pid == HWSM_TRANSPORT_HWBINDER);
	ubinder_parcel_free(reply);
	data = sm_request(HWSM_DEBUG_DUMP);
	CHECK_OK(sm_send(ctx, HWSM_DEBUG_DUMP, data, &reply));
	CHECK_OK(ubinder_hidl_read_vec(reply, HWSM_DEBUG_INFO_SIZE, &elems, &n, &eh));
	for (size_t i = 0; i < n; i++) {
		const char *iface, *inst;
		const void *pids;
		size_t npids;

		CHECK_OK(ubinder_hidl_read_embedded_string(reply, eh, i * 64, &iface, NULL));
		CHECK_OK(ubinder_hidl_read_embedded_string(reply, eh, i * 64 + 16, &inst, NULL));
		CHECK_OK(ubinder_hidl_read_embedded_vec(reply, 4, eh, i * 64 + 40, &pids, &npids,
							NULL));
		memcpy(&pid, (const uint8_t *)elems + i * 64 + 32, 4);
		if (strcmp(iface, ECHO_FQNAME) == 0 && strcmp(inst, "slot1") == 0)
			found = pid == service_pid;
	}
	CHECK(found);
	ubinder_parcel_free(reply);
	ubinder_binder_unref(echo);
	ubinder_context_close(ctx);
	return 0;
}

static int client_sees_death(void *arg)
{
	ubinder_context *ctx = hw_open();
	ubinder_binder *echo = NULL;

	(void)arg;
	CHECK(ctx);
	CHECK(wait_listed(ctx, ECHO_FQNAME "/slot1", false));
	CHECK(!listed(ctx, UBINDER_HIDL_BASE_DESCRIPTOR "/slot1"));
	CHECK(ubinder_hidl_sm_get(ctx, ECHO_FQNAME, "slot1", &echo) == UBINDER_ERR_NAME_NOT_FOUND);
	ubinder_context_close(ctx);
	return 0;
}

static void add_get_list_notify_death(void **state)
{
	struct listener_args inst = { .package = false }, pkg = { .package = true }, late;
	struct echo_opts o;
	pid_t li, lp, ll, svc;

	(void)state;
	sync_init(&inst.n.got);
	sync_init(&inst.ready);
	sync_init(&inst.done);
	sync_init(&pkg.n.got);
	sync_init(&pkg.ready);
	sync_init(&pkg.done);
	li = lspawn(listener_child, &inst);
	lp = lspawn(listener_child, &pkg);
	assert_int_equal(sync_wait(&inst.ready, 10000), 1);
	assert_int_equal(sync_wait(&pkg.ready, 10000), 1);
	svc = echo_start(&o, "slot1", false);
	/* Both listeners hear of the new registration. */
	assert_int_equal(sync_wait(&inst.n.got, 10000), 1);
	assert_int_equal(sync_wait(&pkg.n.got, 10000), 1);
	/* A listener registered later hears that it is there already. */
	late = (struct listener_args){ .package = false };
	sync_init(&late.n.got);
	sync_init(&late.ready);
	sync_init(&late.done);
	ll = lspawn(listener_child, &late);
	assert_int_equal(sync_wait(&late.ready, 10000), 1);
	assert_int_equal(sync_wait(&late.n.got, 10000), 2);
	assert_int_equal(reap(lspawn(client_uses_echo, &svc), 30000), 0);
	sync_post(&inst.done, 1);
	sync_post(&pkg.done, 1);
	sync_post(&late.done, 1);
	assert_int_equal(reap(li, 20000), 0);
	assert_int_equal(reap(lp, 20000), 0);
	assert_int_equal(reap(ll, 20000), 0);
	/* The service dies: its entries go. */
	kill(svc, SIGKILL);
	reap(svc, 5000);
	echo_forget(&o);
	assert_int_equal(reap(lspawn(client_sees_death, NULL), 30000), 0);
}

/* --- 1.2: addWithChain, client callbacks, tryUnregister ------------------------------------- */

static int client_holds_echo(void *arg)
{
	struct sync *release = arg;
	ubinder_context *ctx = hw_open();
	ubinder_binder *echo = NULL;

	CHECK(ctx);
	CHECK_OK(ubinder_hidl_sm_get(ctx, ECHO2_FQNAME, "lazy", &echo));
	CHECK(sync_wait(release, 20000) == 1);
	ubinder_binder_unref(echo);
	ubinder_context_close(ctx);
	return 0;
}

static int client_checks_lazy(void *arg)
{
	ubinder_context *ctx = hw_open();
	char **names = NULL;
	size_t n;

	(void)arg;
	CHECK(ctx);
	/* addWithChain registered every interface of the chain given. */
	CHECK(listed(ctx, ECHO2_FQNAME "/lazy") && listed(ctx, ECHO_FQNAME "/lazy"));
	/* The manifest (--declare), not the registrations. */
	CHECK_OK(sm_names(ctx, HWSM_LIST_MANIFEST_BY_INTERFACE, ECHO_FQNAME, &names, &n));
	CHECK(n == 1 && strcmp(names[0], "declared") == 0);
	ubinder_hidl_free_strings(names);
	ubinder_context_close(ctx);
	return 0;
}

/* tryUnregister removed the service from every interface of its chain. */
static int client_sees_lazy_gone(void *arg)
{
	ubinder_context *ctx = hw_open();

	(void)arg;
	CHECK(ctx);
	CHECK(!listed(ctx, ECHO2_FQNAME "/lazy") && !listed(ctx, ECHO_FQNAME "/lazy"));
	ubinder_context_close(ctx);
	return 0;
}

static void client_callbacks_and_try_unregister(void **state)
{
	struct echo_opts o;
	struct sync release;
	pid_t svc, holder;

	(void)state;
	svc = echo_start(&o, "lazy", true);
	assert_int_equal(reap(lspawn(client_checks_lazy, NULL), 30000), 0);
	sync_init(&release);
	holder = lspawn(client_holds_echo, &release);
	/* The manager sees a client, and tells the service. */
	assert_int_equal(sync_wait(&o.events, 10000), 11);
	/* With a client, tryUnregister refuses. */
	sync_post(&o.stop, 2);
	assert_int_equal(sync_wait(&o.events, 10000), 20);
	sync_post(&release, 1);
	assert_int_equal(reap(holder, 20000), 0);
	assert_int_equal(sync_wait(&o.events, 10000), 10);
	/* The callback goes once; then there is none to remove. */
	sync_post(&o.stop, 3);
	assert_int_equal(sync_wait(&o.events, 10000), 31);
	sync_post(&o.stop, 3);
	assert_int_equal(sync_wait(&o.events, 10000), 30);
	sync_post(&o.stop, 2);
	assert_int_equal(sync_wait(&o.events, 10000), 21);
	assert_int_equal(reap(lspawn(client_sees_lazy_gone, NULL), 30000), 0);
	sync_post(&o.stop, 1);
	assert_int_equal(reap(svc, 20000), 0);
	echo_forget(&o);
	close(release.fds[0]);
	close(release.fds[1]);
}

/* --- bad input ------------------------------------------------------------------------------- */

static int raw_call(ubinder_context *ctx, uint32_t code, ubinder_parcel *data, bool *ok)
{
	ubinder_parcel *reply = NULL;
	int err = sm_send(ctx, code, data, &reply);

	if (!err && ok)
		err = ubinder_parcel_read_bool(reply, ok);
	ubinder_parcel_free(reply);
	return err;
}

static int client_bad_input(void *arg)
{
	ubinder_context *ctx = hw_open();
	ubinder_binder *sm = NULL, *obj = NULL;
	const struct ubinder_hidl_interface iface = { echo_chain, 1, NULL, echo_handler, NULL };
	struct {
		uint64_t ptr;
		uint32_t size;
		uint32_t owns;
	} lie = { 0, 100, 1 };
	ubinder_parcel *p;
	int32_t ex;
	size_t h;
	bool ok = true;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_get(ctx, &sm));
	CHECK_OK(ubinder_hidl_object_new(ctx, &iface, NULL, NULL, &obj));
	/* Unknown codes. */
	CHECK(raw_call(ctx, 15, sm_request(15), NULL) == UBINDER_ERR_UNKNOWN_TRANSACTION);
	CHECK(raw_call(ctx, 0x0f000001, sm_request(1), NULL) == UBINDER_ERR_UNKNOWN_TRANSACTION);
	/* The wrong token: another interface, another version, an AIDL header. */
	p = ubinder_parcel_new();
	CHECK_OK(ubinder_hidl_write_interface_token(p, "android.os.IServiceManager"));
	CHECK(raw_call(ctx, HWSM_LIST, p, NULL) == UBINDER_ERR_BAD_TYPE);
	CHECK(raw_call(ctx, HWSM_UNREGISTER_FOR_NOTIFICATIONS, sm_request(1), NULL) ==
	      UBINDER_ERR_BAD_TYPE);
	p = ubinder_parcel_new();
	CHECK_OK(ubinder_parcel_write_interface_token(p, HWSM_DESCRIPTOR_1_0));
	CHECK(raw_call(ctx, HWSM_LIST, p, NULL) == UBINDER_ERR_BAD_TYPE);
	CHECK(raw_call(ctx, HWSM_LIST, ubinder_parcel_new(), NULL) == UBINDER_ERR_BAD_TYPE);
	/* Truncated: the token and one of two strings. */
	p = sm_request(HWSM_GET);
	CHECK_OK(ubinder_hidl_write_string(p, ECHO_FQNAME));
	CHECK(raw_call(ctx, HWSM_GET, p, NULL) == UBINDER_ERR_BAD_VALUE);
	/* A string whose size lies (100 bytes claimed, 4 sent). */
	p = sm_request(HWSM_ADD);
	CHECK_OK(ubinder_parcel_write_buffer(p, &lie, sizeof(lie), &h));
	CHECK_OK(ubinder_parcel_write_embedded_buffer(p, "bad", 4, h, 0, NULL));
	CHECK_OK(ubinder_hidl_write_binder(p, obj));
	CHECK(raw_call(ctx, HWSM_ADD, p, NULL) == UBINDER_ERR_BAD_VALUE);
	/* Chars without their parent. */
	p = sm_request(HWSM_ADD);
	CHECK_OK(ubinder_parcel_write_buffer(p, "evil", 5, NULL));
	CHECK(raw_call(ctx, HWSM_ADD, p, NULL) == UBINDER_ERR_BAD_VALUE);
	/* A plain word where the interface must be. */
	p = sm_request(HWSM_ADD);
	CHECK_OK(ubinder_hidl_write_string(p, "evil"));
	CHECK_OK(ubinder_parcel_write_int32(p, 7));
	CHECK(raw_call(ctx, HWSM_ADD, p, NULL) == UBINDER_ERR_BAD_TYPE);
	/* Well formed but refused: no service, an empty name, an empty chain. */
	CHECK_OK(sm_bool(ctx, HWSM_ADD, "evil", NULL, NULL, NULL, 1, &ok));
	CHECK(!ok);
	CHECK_OK(sm_bool(ctx, HWSM_ADD, "", NULL, obj, NULL, 1, &ok));
	CHECK(!ok);
	p = sm_request(HWSM_ADD_WITH_CHAIN);
	CHECK_OK(ubinder_hidl_write_string(p, "evil"));
	CHECK_OK(ubinder_hidl_write_binder(p, obj));
	CHECK_OK(ubinder_hidl_write_string_vec(p, NULL, 0));
	CHECK_OK(raw_call(ctx, HWSM_ADD_WITH_CHAIN, p, &ok));
	CHECK(!ok);
	CHECK_OK(sm_bool(ctx, HWSM_REGISTER_FOR_NOTIFICATIONS, ECHO_FQNAME, "evil", NULL, NULL, 1,
			 &ok));
	CHECK(!ok);
	/* An interface name with the separator in it is refused; and it does not
	 * reach the instance whose name has one ("a" + "b/c" is not "a/b" + "c"). */
	CHECK_OK(sm_bool(ctx, HWSM_REGISTER_FOR_NOTIFICATIONS, ECHO_FQNAME "/sub", "inst", obj,
			 NULL, 1, &ok));
	CHECK(!ok);
	CHECK_OK(ubinder_hidl_sm_add(ctx, "sub/inst", obj));
	{
		ubinder_binder *none = NULL;

		CHECK(ubinder_hidl_sm_get(ctx, ECHO_FQNAME "/sub", "inst", &none) ==
		      UBINDER_ERR_NAME_NOT_FOUND);
		CHECK_OK(ubinder_hidl_sm_get(ctx, ECHO_FQNAME, "sub/inst", &none));
		CHECK(none == obj);
		ubinder_binder_unref(none);
	}
	/* A client callback or tryUnregister for what the caller did not register. */
	CHECK_OK(sm_bool(ctx, HWSM_REGISTER_CLIENT_CALLBACK, HWSM_DESCRIPTOR_1_0, "default", sm,
			 obj, 2, &ok));
	CHECK(!ok);
	CHECK_OK(sm_bool(ctx, HWSM_TRY_UNREGISTER, HWSM_DESCRIPTOR_1_0, "default", sm, NULL, 1,
			 &ok));
	CHECK(!ok);
	/* getTransport of an unknown instance: EMPTY. */
	p = sm_request(HWSM_GET_TRANSPORT);
	CHECK_OK(ubinder_hidl_write_string(p, ECHO_FQNAME));
	CHECK_OK(ubinder_hidl_write_string(p, "nothing"));
	{
		ubinder_parcel *reply;

		CHECK_OK(sm_send(ctx, HWSM_GET_TRANSPORT, p, &reply));
		CHECK_OK(ubinder_parcel_read_int32(reply, &ex));
		CHECK(ex == HWSM_TRANSPORT_EMPTY);
		ubinder_parcel_free(reply);
	}
	/* Nothing was registered, and the manager still serves. */
	CHECK(!listed(ctx, ECHO_FQNAME "/evil") && !listed(ctx, ECHO_FQNAME "/"));
	CHECK(listed(ctx, HWSM_DESCRIPTOR_1_0 "/default"));
	CHECK_OK(ubinder_hidl_ping(sm));
	ubinder_binder_unref(obj);
	ubinder_binder_unref(sm);
	ubinder_context_close(ctx);
	return 0;
}

static void bad_input(void **state)
{
	(void)state;
	assert_int_equal(reap(lspawn(client_bad_input, NULL), 30000), 0);
	/* Nothing is left in flight in the daemon. */
	for (int i = 0; i < 500 && ubd_stat(&hd, "transaction: active") != 0; i++)
		poll(NULL, 0, 10);
	assert_int_equal(ubd_stat(&hd, "transaction: active"), 0);
}

/* --- more of 1.0: passthrough clients, replacement, a non-HIDL object, listeners' death --- */

static int client_more(void *arg)
{
	ubinder_context *ctx = hw_open();
	const struct ubinder_hidl_interface iface = { echo_chain, 1, NULL, echo_handler, NULL };
	ubinder_binder *a = NULL, *b = NULL, *plain = NULL, *got = NULL;
	ubinder_parcel *data, *reply = NULL;
	const void *elems;
	size_t n, eh;
	bool found = false;

	(void)arg;
	CHECK(ctx);
	/* registerPassthroughClient: the caller's pid in debugDump's clientPids. */
	data = sm_request(HWSM_REGISTER_PASSTHROUGH_CLIENT);
	CHECK_OK(ubinder_hidl_write_string(data, ECHO_FQNAME));
	CHECK_OK(ubinder_hidl_write_string(data, "passthrough"));
	CHECK_OK(sm_send(ctx, HWSM_REGISTER_PASSTHROUGH_CLIENT, data, &reply));
	ubinder_parcel_free(reply);
	data = sm_request(HWSM_DEBUG_DUMP);
	CHECK_OK(sm_send(ctx, HWSM_DEBUG_DUMP, data, &reply));
	CHECK_OK(ubinder_hidl_read_vec(reply, HWSM_DEBUG_INFO_SIZE, &elems, &n, &eh));
	for (size_t i = 0; i < n; i++) {
		const char *iface_name, *inst;
		const void *pids;
		size_t npids;
		int32_t pid;

		CHECK_OK(ubinder_hidl_read_embedded_string(reply, eh, i * 64, &iface_name, NULL));
		CHECK_OK(ubinder_hidl_read_embedded_string(reply, eh, i * 64 + 16, &inst, NULL));
		CHECK_OK(ubinder_hidl_read_embedded_vec(reply, 4, eh, i * 64 + 40, &pids, &npids,
							NULL));
		if (strcmp(inst, "passthrough") == 0) {
			memcpy(&pid, pids, 4);
			found = npids == 1 && pid == getpid();
		}
	}
	ubinder_parcel_free(reply);
	CHECK(found);
	/* A second add of the name replaces the first; get finds the new one. */
	CHECK_OK(ubinder_hidl_object_new(ctx, &iface, NULL, NULL, &a));
	CHECK_OK(ubinder_hidl_object_new(ctx, &iface, NULL, NULL, &b));
	CHECK_OK(ubinder_hidl_sm_add(ctx, "twice", a));
	CHECK_OK(ubinder_hidl_sm_add(ctx, "twice", b));
	CHECK_OK(ubinder_hidl_sm_get(ctx, ECHO_FQNAME, "twice", &got));
	CHECK(got == b);
	ubinder_binder_unref(got);
	/* An object that is not a HIDL one has no interfaceChain: refused. */
	CHECK_OK(ubinder_binder_new(ctx, "plain", NULL, NULL, NULL, &plain));
	CHECK(ubinder_hidl_sm_add(ctx, "plain", plain) == UBINDER_ERR_PERMISSION_DENIED);
	CHECK(!listed(ctx, UBINDER_HIDL_BASE_DESCRIPTOR "/plain"));
	ubinder_binder_unref(plain);
	ubinder_binder_unref(a);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

/* Registers a listener and dies with it. */
static int listener_dies(void *arg)
{
	struct listener_args *a = arg;
	const struct ubinder_hidl_interface iface = { (const char *const[]){
							      HWSM_NOTIFICATION_DESCRIPTOR },
						      1, NULL, notification_handler, NULL };
	ubinder_context *ctx = hw_open();
	ubinder_binder *cb = NULL;
	bool ok = false;

	CHECK(ctx);
	CHECK_OK(ubinder_hidl_object_new(ctx, &iface, &a->n, NULL, &cb));
	CHECK_OK(sm_bool(ctx, HWSM_REGISTER_FOR_NOTIFICATIONS, ECHO_FQNAME, "never", cb, NULL, 1,
			 &ok));
	CHECK(ok);
	_exit(0); /* without closing anything: the manager learns of it by death */
}

static void more_of_1_0(void **state)
{
	struct listener_args l = { .package = false };
	long refs, deaths;

	(void)state;
	assert_int_equal(reap(lspawn(client_more, NULL), 30000), 0);
	/* A dead listener's registration goes: the manager keeps no reference to it
	 * and no death notification for it. */
	sync_init(&l.n.got);
	refs = ubd_stat(&hd, "ref: active");
	deaths = ubd_stat(&hd, "death: active");
	assert_int_equal(reap(spawn(listener_dies, &l), 30000), 0);
	for (int i = 0; i < 500 && (ubd_stat(&hd, "ref: active") != refs ||
				    ubd_stat(&hd, "death: active") != deaths);
	     i++)
		poll(NULL, 0, 10);
	assert_int_equal(ubd_stat(&hd, "ref: active"), refs);
	assert_int_equal(ubd_stat(&hd, "death: active"), deaths);
}

/* --- the program's command line ------------------------------------------------------------ */

static int run_quiet(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return reap(pid, 10000);
}

static void command_line(void **state)
{
	const char *bin = getenv("UBINDER_HWSERVICEMANAGER");
	char nowhere[200];

	(void)state;
	snprintf(nowhere, sizeof(nowhere), "%s/nothing-here", hd.dir);
	assert_int_equal(run_quiet((const char *const[]){ bin, "--help", NULL }), 0);
	assert_int_equal(run_quiet((const char *const[]){ bin, "--version", NULL }), 0);
	assert_int_equal(run_quiet((const char *const[]){ bin, "--bogus", NULL }), 2);
	assert_int_equal(run_quiet((const char *const[]){ bin, "-d", "no-slash", NULL }), 2);
	assert_int_equal(run_quiet((const char *const[]){ bin, "-i", "5", NULL }), 2);
	assert_int_equal(run_quiet((const char *const[]){ bin, "extra", NULL }), 2);
	/* No daemon there; a second manager of a managed context. */
	assert_int_equal(run_quiet((const char *const[]){ bin, "-s", nowhere, NULL }), 1);
	assert_int_equal(run_quiet((const char *const[]){ bin, "-s", hw_sock, NULL }), 1);
}

/* --- ubinderctl on a hwbinder context ------------------------------------------------------- */

/* Runs @argv with stdout and stderr into @out (NUL-terminated); returns its status. */
static int run_capture(const char *const *argv, char *out, size_t size)
{
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	status = reap(pid, 10000);
	return status;
}

static void ubinderctl_speaks_hidl(void **state)
{
	const char *ctl = getenv("UBINDERCTL");
	struct echo_opts o;
	char out[4096];
	pid_t svc;

	(void)state;
	assert_non_null(ctl);
	svc = echo_start(&o, "ctl", false);
	assert_int_equal(run_capture((const char *const[]){ ctl, "-s", hw_sock, "list", NULL }, out,
				     sizeof(out)),
			 0);
	assert_non_null(strstr(out, ECHO_FQNAME "/ctl\n"));
	assert_non_null(strstr(out, HWSM_DESCRIPTOR_1_0 "/default\n"));
	assert_int_equal(run_capture((const char *const[]){ ctl, "-s", hw_sock, "ping",
							    ECHO_FQNAME "/ctl", NULL },
				     out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, "alive, interface '" ECHO_FQNAME "'"));
	assert_int_equal(run_capture((const char *const[]){ ctl, "-s", hw_sock, "ping",
							    ECHO_FQNAME "/nothing", NULL },
				     out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "no service named"));
	sync_post(&o.stop, 1);
	assert_int_equal(reap(svc, 20000), 0);
	echo_forget(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manager_answers_ibase),
		cmocka_unit_test(add_get_list_notify_death),
		cmocka_unit_test(client_callbacks_and_try_unregister),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(more_of_1_0),
		cmocka_unit_test(command_line),
		cmocka_unit_test(ubinderctl_speaks_hidl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
