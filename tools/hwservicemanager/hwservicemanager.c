/* SPDX-License-Identifier: MIT */
/*
 * ubinder-hwservicemanager: the context manager of a hwbinder context,
 * speaking HIDL's android.hidl.manager@1.0, 1.1 and 1.2::IServiceManager
 * (hwsm_protocol.h, docs/tools.md). It is itself a HIDL object: it answers
 * IBase and is registered in its own table as the "default" instance of its
 * interfaces, as Android's hwservicemanager is.
 *
 * An instance is an interface name (fqName) and an instance name. A service
 * registered with add() is entered under every interface of its chain;
 * listeners wait for one instance, or for every instance of an interface
 * (package listeners: an empty name). One thread, one event loop (the
 * context's poll descriptor, a signalfd and a timer for client callbacks).
 * Services and callbacks are linked to death: a dead process's entries go.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "callback_list.h"
#include "managers/hwsm_protocol.h"
#include "manager_loop.h"
#include "manager_options.h"
#include "socket-arg.h"
#include "ubinder/ubinder.h"
#include "ubinder-config.h"

#define MAX_INSTANCES	16384
#define MAX_CALLBACKS	16384
#define MAX_NAME	1024 /* bytes of an fqName or instance name */
#define MAX_PASSTHROUGH 64   /* client pids kept per instance */

static const char *const manager_chain[] = { HWSM_DESCRIPTOR_1_2, HWSM_DESCRIPTOR_1_1,
					     HWSM_DESCRIPTOR_1_0, UBINDER_HIDL_BASE_DESCRIPTOR };
/* SHA-256 of each .hal, from the hash chain hidl-gen generates for 1.2. */
static const uint8_t manager_hashes[4][32] = {
	{ 0x6f, 0x3a, 0x8a, 0x3f, 0xd4, 0xbf, 0xbd, 0x02, 0xe4, 0xe6, 0x1c,
	  0x73, 0x2d, 0x2d, 0xf6, 0x16, 0xff, 0x69, 0x43, 0x4a, 0x1e, 0xd8,
	  0x3c, 0xda, 0x33, 0x73, 0x03, 0xad, 0xc6, 0xd7, 0x14, 0xdf },
	{ 0x0b, 0x94, 0xdc, 0x87, 0x6f, 0x74, 0x9e, 0xd2, 0x4a, 0x98, 0xf6,
	  0x1c, 0x41, 0xd4, 0x6a, 0xd7, 0x5a, 0x27, 0x51, 0x11, 0x63, 0xf1,
	  0x96, 0x8a, 0x08, 0x42, 0x13, 0xa3, 0x3c, 0x68, 0x4e, 0xf6 },
	{ 0x85, 0x39, 0x4f, 0x8a, 0x0d, 0x15, 0xe7, 0xfb, 0x2e, 0xe4, 0x5c,
	  0x52, 0xd1, 0xfb, 0x8b, 0x8f, 0xd3, 0xc1, 0x3c, 0x33, 0x3e, 0x63,
	  0xc7, 0x8c, 0x4a, 0xa1, 0xff, 0x86, 0x84, 0x0c, 0xf6, 0xdc },
	{ 0xec, 0x7f, 0xd7, 0x9e, 0xd0, 0x2d, 0xfa, 0x85, 0xbc, 0x49, 0x94,
	  0x26, 0xad, 0xae, 0x3e, 0xbe, 0x23, 0xef, 0x05, 0x24, 0xf3, 0xcd,
	  0x69, 0x57, 0x13, 0x93, 0x24, 0xb8, 0x3b, 0x18, 0xca, 0x4c },
};

struct instance {
	char *key; /* "fqName/name" */
	char *fqname, *name;
	ubinder_binder *service; /* NULL while only listeners or passthrough clients wait */
	pid_t pid;		 /* of the registering process, HWSM_NO_PID */
	uid_t owner;
	struct callback_node *listeners;
	struct callback_node *client_cbs;
	bool has_clients, guarantee_client;
	pid_t passthrough[MAX_PASSTHROUGH];
	size_t npassthrough;
	UT_hash_handle hh;
};

/* Listeners of every instance of an interface. */
struct package {
	char *fqname;
	struct callback_node *listeners;
	UT_hash_handle hh;
};

/* Instances of the manifest (--declare): "fqName/name". */
struct declared {
	char *key;
	UT_hash_handle hh;
};

static struct instance *instances;
static struct package *packages;
static struct declared *manifest;
static size_t ninstances;

static char *join(const char *fqname, const char *name)
{
	size_t a = strlen(fqname), b = strlen(name);
	char *s = malloc(a + b + 2);

	if (s) {
		memcpy(s, fqname, a);
		s[a] = '/';
		memcpy(s + a + 1, name, b + 1);
	}
	return s;
}

/* --- the table ----------------------------------------------------------------------- */

static struct instance *inst_get(const char *fqname, const char *name, bool create)
{
	char *key = join(fqname, name);
	struct instance *e;

	if (!key)
		return NULL;
	HASH_FIND_STR(instances, key, e);
	/* Keys join with '/': "a/b" + "c" is another instance than "a" + "b/c". */
	if (e && (strcmp(e->fqname, fqname) != 0 || strcmp(e->name, name) != 0)) {
		free(key);
		return NULL;
	}
	if (e || !create || ninstances >= MAX_INSTANCES) {
		free(key);
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(key);
		return NULL;
	}
	e->key = key;
	e->fqname = strndup(key, strlen(fqname));
	e->name = strdup(name);
	e->pid = HWSM_NO_PID;
	if (!e->fqname || !e->name) {
		free(e->fqname);
		free(e->name);
		free(e->key);
		free(e);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, instances, e->key, strlen(e->key), e);
	ninstances++;
	return e;
}

static void inst_drop_if_empty(struct instance *e)
{
	if (e->service || e->listeners || e->client_cbs || e->npassthrough)
		return;
	HASH_DELETE(hh, instances, e);
	ninstances--;
	free(e->key);
	free(e->fqname);
	free(e->name);
	free(e);
}

static struct package *package_get(const char *fqname, bool create)
{
	struct package *pk;

	HASH_FIND_STR(packages, fqname, pk);
	if (pk || !create)
		return pk;
	pk = calloc(1, sizeof(*pk));
	if (!pk || !(pk->fqname = strdup(fqname))) {
		free(pk);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, packages, pk->fqname, strlen(pk->fqname), pk);
	return pk;
}

static void package_drop_if_empty(struct package *pk)
{
	if (pk->listeners)
		return;
	HASH_DELETE(hh, packages, pk);
	free(pk->fqname);
	free(pk);
}

static void binder_died(ubinder_binder *binder, void *userdata);

/* Every listener and client callback (the manager's own object needs no death link). */
static struct callback_registry all_callbacks = {
	.died = binder_died,
	.max = MAX_CALLBACKS,
	.local_unlinked = true,
};

/* Links @b to death (a local object, ourselves, needs none). */
static bool link_death(ubinder_binder *b)
{
	return ubinder_binder_is_local(b) ||
	       ubinder_binder_link_to_death(b, binder_died, NULL) == 0;
}

static void unlink_death(ubinder_binder *b)
{
	if (!ubinder_binder_is_local(b))
		(void)ubinder_binder_unlink_to_death(b, binder_died, NULL);
}

/* The instance's service goes (death, replacement, unregistration). */
static void service_clear(struct instance *e)
{
	if (!e->service)
		return;
	unlink_death(e->service);
	ubinder_binder_unref(e->service);
	e->service = NULL;
	e->pid = HWSM_NO_PID;
	e->has_clients = e->guarantee_client = false;
	callback_drop(&all_callbacks, &e->client_cbs, NULL);
}

/* Removes @service from every instance (of @name only, unless NULL). */
static bool remove_service(ubinder_binder *service, const char *name)
{
	struct instance *e, *tmp;
	bool found = false;

	HASH_ITER(hh, instances, e, tmp) {
		if (e->service == service && (!name || strcmp(e->name, name) == 0)) {
			manager_say("'%s' unregistered", e->key);
			service_clear(e);
			inst_drop_if_empty(e);
			found = true;
		}
	}
	return found;
}

/* A service or callback process died: forget everything of @binder. */
static void binder_died(ubinder_binder *binder, void *userdata)
{
	struct instance *e, *tmp;
	struct package *pk, *ptmp;

	(void)userdata;
	HASH_ITER(hh, instances, e, tmp) {
		if (e->service == binder) {
			manager_say("service '%s' died", e->key);
			service_clear(e);
		}
		callback_drop(&all_callbacks, &e->listeners, binder);
		callback_drop(&all_callbacks, &e->client_cbs, binder);
		inst_drop_if_empty(e);
	}
	HASH_ITER(hh, packages, pk, ptmp) {
		callback_drop(&all_callbacks, &pk->listeners, binder);
		package_drop_if_empty(pk);
	}
}

/* --- calls to callbacks (oneway) ------------------------------------------------------- */

static void notify_registration(ubinder_binder *cb, const char *fqname, const char *name,
				bool preexisting)
{
	manager_call_oneway(&manager_hidl, cb, HWSM_NOTIFICATION_DESCRIPTOR, HWSM_ON_REGISTRATION,
			    "onRegistration", "ssb", fqname, name, preexisting);
}

static void notify_clients(ubinder_binder *cb, ubinder_binder *service, bool has_clients)
{
	manager_call_oneway(&manager_hidl, cb, HWSM_CLIENT_CALLBACK_DESCRIPTOR, HWSM_ON_CLIENTS,
			    "onClients", "ob", service, has_clients);
}

/*
 * Updates whether @e's service has clients (the driver counts processes with
 * a strong reference: we are one) and tells its client callbacks of a
 * change. Returns the count, or -1.
 */
static long check_clients(struct instance *e)
{
	long strong;

	if (manager_clients_changed(e->service, &e->has_clients, &e->guarantee_client, &strong)) {
		manager_say("'%s' has %s", e->key, e->has_clients ? "clients" : "no clients");
		for (struct callback_node *n = e->client_cbs; n; n = n->next)
			notify_clients(n->binder, e->service, e->has_clients);
	}
	return strong;
}

static void check_all_clients(void)
{
	struct instance *e, *tmp;

	HASH_ITER(hh, instances, e, tmp) {
		if (e->client_cbs)
			check_clients(e);
	}
}

/* --- methods --------------------------------------------------------------------------- */

static bool name_ok(const char *s)
{
	return s[0] && strlen(s) <= MAX_NAME;
}

/* An interface name: a name without '/', which separates it from the instance. */
static bool fqname_ok(const char *s)
{
	return name_ok(s) && !strchr(s, '/');
}

/* add() and addWithChain(): @service under each interface of @chain as @name. */
static bool do_add(const struct ubinder_call *call, const char *name, ubinder_binder *service,
		   char **chain, size_t n)
{
	struct instance *e;

	if (!service || !name_ok(name) || n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!fqname_ok(chain[i]))
			return false;
		/* A living service of another user keeps its name. */
		e = inst_get(chain[i], name, false);
		if (e && e->service && e->service != service && e->owner != call->sender_euid)
			return false;
	}
	if (ninstances + n > MAX_INSTANCES)
		return false;
	/* The most derived interface's previous service leaves this name entirely. */
	e = inst_get(chain[0], name, false);
	if (e && e->service && e->service != service)
		remove_service(e->service, name);
	for (size_t i = 0; i < n; i++) {
		struct package *pk;

		e = inst_get(chain[i], name, true);
		if (!e)
			return false;
		if (e->service != service) {
			service_clear(e);
			if (!link_death(service)) {
				inst_drop_if_empty(e);
				return false; /* already dead */
			}
			e->service = ubinder_binder_ref(service);
		}
		e->pid = call->sender_pid ? call->sender_pid : getpid();
		e->owner = call->sender_euid;
		manager_say("'%s' registered (pid %d)", e->key, (int)e->pid);
		for (struct callback_node *l = e->listeners; l; l = l->next)
			notify_registration(l->binder, e->fqname, e->name, false);
		pk = package_get(e->fqname, false);
		for (struct callback_node *l = pk ? pk->listeners : NULL; l; l = l->next)
			notify_registration(l->binder, e->fqname, e->name, false);
	}
	return true;
}

static bool do_register(const char *fqname, const char *name, ubinder_binder *cb)
{
	struct instance *e, *tmp;

	if (!cb || !fqname_ok(fqname) || strlen(name) > MAX_NAME)
		return false;
	if (!name[0]) {
		struct package *pk = package_get(fqname, true);

		if (!pk)
			return false;
		HASH_ITER(hh, instances, e, tmp) {
			if (e->service && strcmp(e->fqname, fqname) == 0)
				notify_registration(cb, e->fqname, e->name, true);
		}
		if (callback_add(&all_callbacks, &pk->listeners, cb) != 0) {
			package_drop_if_empty(pk);
			return false;
		}
		return true;
	}
	e = inst_get(fqname, name, true);
	if (!e)
		return false;
	if (e->service)
		notify_registration(cb, e->fqname, e->name, true);
	if (callback_add(&all_callbacks, &e->listeners, cb) != 0) {
		inst_drop_if_empty(e);
		return false;
	}
	return true;
}

static bool do_unregister(const char *fqname, const char *name, ubinder_binder *cb)
{
	struct instance *e, *tmp;
	struct package *pk, *ptmp;
	bool found = false;

	if (!cb)
		return false;
	/* An empty name (or fqName) removes package and instance listeners alike. */
	if (!name[0] || !fqname[0]) {
		HASH_ITER(hh, packages, pk, ptmp) {
			if (!fqname[0] || strcmp(pk->fqname, fqname) == 0) {
				found |= callback_drop(&all_callbacks, &pk->listeners, cb) != 0;
				package_drop_if_empty(pk);
			}
		}
		HASH_ITER(hh, instances, e, tmp) {
			if (!fqname[0] || strcmp(e->fqname, fqname) == 0) {
				found |= callback_drop(&all_callbacks, &e->listeners, cb) != 0;
				inst_drop_if_empty(e);
			}
		}
		return found;
	}
	e = inst_get(fqname, name, false);
	if (!e)
		return false;
	found = callback_drop(&all_callbacks, &e->listeners, cb) != 0;
	inst_drop_if_empty(e);
	return found;
}

static void do_passthrough(const char *fqname, const char *name, pid_t pid)
{
	struct instance *e =
		fqname_ok(fqname) && strlen(name) <= MAX_NAME ? inst_get(fqname, name, true) : NULL;

	if (!e)
		return;
	for (size_t i = 0; i < e->npassthrough; i++) {
		if (e->passthrough[i] == pid)
			return;
	}
	if (e->npassthrough < MAX_PASSTHROUGH)
		e->passthrough[e->npassthrough++] = pid;
}

/* The service registered as @fqname/@name by the calling process, if it is @server. */
static struct instance *own_registration(const struct ubinder_call *call, const char *fqname,
					 const char *name, ubinder_binder *server)
{
	struct instance *e = inst_get(fqname, name, false);

	if (!e || !e->service || e->service != server || e->pid != call->sender_pid)
		return NULL;
	return e;
}

static bool do_register_client_cb(const struct ubinder_call *call, const char *fqname,
				  const char *name, ubinder_binder *server, ubinder_binder *cb)
{
	struct instance *e;

	if (!server || !cb)
		return false;
	e = own_registration(call, fqname, name, server);
	if (!e || callback_add(&all_callbacks, &e->client_cbs, cb) != 0)
		return false;
	if (e->has_clients)
		notify_clients(cb, e->service, true);
	return true;
}

static bool do_unregister_client_cb(ubinder_binder *server, ubinder_binder *cb)
{
	struct instance *e, *tmp;
	bool found = false;

	if (!cb)
		return false;
	HASH_ITER(hh, instances, e, tmp) {
		if (!server || e->service == server)
			found |= callback_drop(&all_callbacks, &e->client_cbs, cb) != 0;
	}
	return found;
}

static bool do_try_unregister(const struct ubinder_call *call, const char *fqname, const char *name,
			      ubinder_binder *service)
{
	struct instance *e;
	long clients;

	if (!service)
		return false;
	e = own_registration(call, fqname, name, service);
	if (!e)
		return false;
	clients = check_clients(e);
	if (clients < 0 || clients > 1 || e->has_clients)
		return false;
	return remove_service(service, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum pick {
	PICK_KEYS,
	PICK_NAMES_OF,
	PICK_DECLARED_OF
};

/* Sorted strings: registered "fqName/name"s, names of @fqname, or declared names of it. */
static int write_names(ubinder_parcel *reply, enum pick what, const char *fqname)
{
	size_t n = 0, cap = what == PICK_DECLARED_OF ? HASH_COUNT(manifest) : ninstances;
	const char **v = calloc(cap ? cap : 1, sizeof(*v));
	struct instance *e, *tmp;
	struct declared *d, *dtmp;
	int err;

	if (!v)
		return UBINDER_ERR_NO_MEMORY;
	if (what == PICK_DECLARED_OF) {
		size_t len = strlen(fqname);

		HASH_ITER(hh, manifest, d, dtmp) {
			if (strncmp(d->key, fqname, len) == 0 && d->key[len] == '/')
				v[n++] = d->key + len + 1;
		}
	} else {
		HASH_ITER(hh, instances, e, tmp) {
			if (!e->service)
				continue;
			if (what == PICK_KEYS)
				v[n++] = e->key;
			else if (strcmp(e->fqname, fqname) == 0)
				v[n++] = e->name;
		}
	}
	qsort(v, n, sizeof(*v), cmp_str);
	err = ubinder_hidl_write_string_vec(reply, v, n);
	free(v);
	return err;
}

static bool declared(const char *fqname, const char *name)
{
	char *key = join(fqname, name);
	struct declared *d = NULL;

	if (key)
		HASH_FIND_STR(manifest, key, d);
	free(key);
	return d != NULL;
}

static int write_debug_dump(ubinder_parcel *reply)
{
	struct instance *e, *tmp, **list = calloc(ninstances ? ninstances : 1, sizeof(*list));
	uint8_t *elems = NULL;
	size_t n = 0, eh;
	int err;

	if (!list)
		return UBINDER_ERR_NO_MEMORY;
	HASH_ITER(hh, instances, e, tmp) {
		if (e->service || e->npassthrough)
			list[n++] = e;
	}
	if (n && !(elems = calloc(n, HWSM_DEBUG_INFO_SIZE))) {
		free(list);
		return UBINDER_ERR_NO_MEMORY;
	}
	for (size_t i = 0; i < n; i++) {
		int32_t pid = list[i]->pid, arch = UBINDER_HIDL_ARCH_UNKNOWN;

		memcpy(elems + i * HWSM_DEBUG_INFO_SIZE + HWSM_DEBUG_INFO_PID, &pid, 4);
		memcpy(elems + i * HWSM_DEBUG_INFO_SIZE + HWSM_DEBUG_INFO_ARCH, &arch, 4);
	}
	err = ubinder_hidl_write_vec(reply, elems, n, HWSM_DEBUG_INFO_SIZE, &eh);
	for (size_t i = 0; !err && i < n; i++) {
		size_t at = i * HWSM_DEBUG_INFO_SIZE;
		int32_t pids[MAX_PASSTHROUGH];

		for (size_t k = 0; k < list[i]->npassthrough; k++)
			pids[k] = list[i]->passthrough[k];
		err = ubinder_hidl_write_embedded_string(reply, list[i]->fqname, eh,
							 at + HWSM_DEBUG_INFO_INTERFACE);
		if (!err)
			err = ubinder_hidl_write_embedded_string(reply, list[i]->name, eh,
								 at + HWSM_DEBUG_INFO_INSTANCE);
		if (!err)
			err = ubinder_hidl_write_embedded_vec(reply, pids, list[i]->npassthrough,
							      sizeof(pids[0]), eh,
							      at + HWSM_DEBUG_INFO_CLIENTS, NULL);
	}
	free(elems);
	free(list);
	return err;
}

/* --- requests ---------------------------------------------------------------------------- */

/* What each method reads, in order: s string, b interface, v vec<string>. */
static const char *const signatures[] = {
	[HWSM_GET] = "ss",
	[HWSM_ADD] = "sb",
	[HWSM_GET_TRANSPORT] = "ss",
	[HWSM_LIST] = "",
	[HWSM_LIST_BY_INTERFACE] = "s",
	[HWSM_REGISTER_FOR_NOTIFICATIONS] = "ssb",
	[HWSM_DEBUG_DUMP] = "",
	[HWSM_REGISTER_PASSTHROUGH_CLIENT] = "ss",
	[HWSM_UNREGISTER_FOR_NOTIFICATIONS] = "ssb",
	[HWSM_REGISTER_CLIENT_CALLBACK] = "ssbb",
	[HWSM_UNREGISTER_CLIENT_CALLBACK] = "bb",
	[HWSM_ADD_WITH_CHAIN] = "sbv",
	[HWSM_LIST_MANIFEST_BY_INTERFACE] = "s",
	[HWSM_TRY_UNREGISTER] = "ssb",
};

struct request {
	char *s[2];
	ubinder_binder *b[2];
	char **chain;
	size_t nchain;
};

static void request_free(struct request *r)
{
	for (int i = 0; i < 2; i++) {
		free(r->s[i]);
		ubinder_binder_unref(r->b[i]);
	}
	ubinder_hidl_free_strings(r->chain);
}

static int read_request(ubinder_parcel *data, const char *sig, struct request *r)
{
	int ns = 0, nb = 0, err = 0;

	for (const char *c = sig; !err && *c; c++) {
		const char *s;

		if (*c == 's') {
			err = ubinder_hidl_read_string(data, &s, NULL);
			if (!err && !(r->s[ns++] = strdup(s)))
				err = UBINDER_ERR_NO_MEMORY;
		} else if (*c == 'b') {
			err = ubinder_hidl_read_binder(data, &r->b[nb++]);
		} else {
			err = ubinder_hidl_read_string_vec(data, &r->chain, &r->nchain);
		}
	}
	return err;
}

static const char *token_of(uint32_t code)
{
	if (code <= HWSM_REGISTER_PASSTHROUGH_CLIENT)
		return HWSM_DESCRIPTOR_1_0;
	return code == HWSM_UNREGISTER_FOR_NOTIFICATIONS ? HWSM_DESCRIPTOR_1_1
							 : HWSM_DESCRIPTOR_1_2;
}

static int serve(const struct ubinder_call *call, const struct request *r, ubinder_parcel *reply)
{
	struct instance *e;

	switch (call->code) {
	case HWSM_GET:
		e = inst_get(r->s[0], r->s[1], false);
		if (e && e->service)
			e->guarantee_client = true;
		return ubinder_hidl_write_binder(reply, e ? e->service : NULL);
	case HWSM_ADD: {
		/* The chain comes from the service itself (a call back to it). */
		char **got = NULL;
		size_t n = 0;
		bool ok = false;

		if (r->b[0] && ubinder_hidl_interface_chain(r->b[0], &got, &n) == 0)
			ok = do_add(call, r->s[0], r->b[0], got, n);
		ubinder_hidl_free_strings(got);
		return ubinder_parcel_write_bool(reply, ok);
	}
	case HWSM_GET_TRANSPORT:
		e = inst_get(r->s[0], r->s[1], false);
		return ubinder_parcel_write_int32(reply,
						  (e && e->service) || declared(r->s[0], r->s[1])
							  ? HWSM_TRANSPORT_HWBINDER
							  : HWSM_TRANSPORT_EMPTY);
	case HWSM_LIST:
		return write_names(reply, PICK_KEYS, NULL);
	case HWSM_LIST_BY_INTERFACE:
		return write_names(reply, PICK_NAMES_OF, r->s[0]);
	case HWSM_REGISTER_FOR_NOTIFICATIONS:
		return ubinder_parcel_write_bool(reply, do_register(r->s[0], r->s[1], r->b[0]));
	case HWSM_DEBUG_DUMP:
		return write_debug_dump(reply);
	case HWSM_REGISTER_PASSTHROUGH_CLIENT:
		do_passthrough(r->s[0], r->s[1], call->sender_pid);
		return 0;
	case HWSM_UNREGISTER_FOR_NOTIFICATIONS:
		return ubinder_parcel_write_bool(reply, do_unregister(r->s[0], r->s[1], r->b[0]));
	case HWSM_REGISTER_CLIENT_CALLBACK:
		return ubinder_parcel_write_bool(
			reply, do_register_client_cb(call, r->s[0], r->s[1], r->b[0], r->b[1]));
	case HWSM_UNREGISTER_CLIENT_CALLBACK:
		return ubinder_parcel_write_bool(reply, do_unregister_client_cb(r->b[0], r->b[1]));
	case HWSM_ADD_WITH_CHAIN:
		return ubinder_parcel_write_bool(
			reply, do_add(call, r->s[0], r->b[0], r->chain, r->nchain));
	case HWSM_LIST_MANIFEST_BY_INTERFACE:
		return write_names(reply, PICK_DECLARED_OF, r->s[0]);
	default: /* HWSM_TRY_UNREGISTER */
		return ubinder_parcel_write_bool(
			reply, do_try_unregister(call, r->s[0], r->s[1], r->b[0]));
	}
}

static int handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		   ubinder_parcel *reply, void *userdata)
{
	struct request r = { 0 };
	int err;

	(void)self;
	(void)userdata;
	if (call->code < HWSM_GET || call->code > HWSM_TRY_UNREGISTER)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	if (!reply)
		return UBINDER_ERR_INVALID_OPERATION; /* no method is oneway */
	err = ubinder_hidl_enforce_interface(data, token_of(call->code));
	if (err)
		return err; /* BAD_TYPE, as hidl-gen's stubs */
	err = read_request(data, signatures[call->code], &r);
	if (err == UBINDER_ERR_UNEXPECTED_NULL) {
		/* hidl-gen's stubs answer a null where a value must be with a status. */
		err = ubinder_hidl_write_status(reply, UBINDER_EX_NULL_POINTER, "unexpected null");
	} else if (!err) {
		err = ubinder_hidl_write_status(reply, UBINDER_EX_NONE, NULL);
		if (!err)
			err = serve(call, &r, reply);
	}
	request_free(&r);
	return err;
}

/* --- main ----------------------------------------------------------------------------- */

static const char usage[] =
	"Usage: ubinder-hwservicemanager [OPTION]...\n"
	"The HIDL service manager of a ubinder hwbinder context: becomes its context\n"
	"manager (handle 0) and keeps the instances of HIDL services\n"
	"(android.hidl.manager@1.0, 1.1 and 1.2::IServiceManager).\n"
	"\n"
	"  -s, --socket PATH          the context's socket (default: the default socket\n"
	"                             of the context)\n"
	"  -c, --context NAME         the context (default hwbinder); with --socket, its\n"
	"                             socket is the one named NAME beside PATH\n"
	"  -d, --declare FQNAME/NAME  an instance of the manifest: getTransport says\n"
	"                             hwbinder for it, listManifestByInterface lists it\n"
	"                             (repeatable)\n" MANAGER_USAGE_END;

static int add_declared(const char *arg)
{
	const char *slash = strchr(arg, '/');
	struct declared *d;

	if (!slash || slash == arg || !slash[1] || strchr(slash + 1, '/') ||
	    strlen(arg) > 2 * MAX_NAME) {
		fprintf(stderr, "ubinder-hwservicemanager: bad --declare '%s' (FQNAME/NAME)\n",
			arg);
		return -1;
	}
	HASH_FIND_STR(manifest, arg, d);
	if (d)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->key = strdup(arg))) {
		free(d);
		fprintf(stderr, "ubinder-hwservicemanager: out of memory\n");
		return -1;
	}
	HASH_ADD_KEYPTR(hh, manifest, d->key, strlen(d->key), d);
	return 0;
}

static int new_self(ubinder_context *ctx, ubinder_binder **self)
{
	static const struct ubinder_hidl_interface iface = {
		.chain = manager_chain,
		.nchain = 4,
		.hashes = manager_hashes,
		.handler = handler,
	};

	return ubinder_hidl_object_new(ctx, &iface, NULL, NULL, self);
}

static void free_all(void)
{
	struct instance *e, *tmp;
	struct package *pk, *ptmp;
	struct declared *d, *dtmp;

	HASH_ITER(hh, instances, e, tmp) {
		service_clear(e);
		callback_drop(&all_callbacks, &e->listeners, NULL);
		e->npassthrough = 0;
		inst_drop_if_empty(e);
	}
	HASH_ITER(hh, packages, pk, ptmp) {
		callback_drop(&all_callbacks, &pk->listeners, NULL);
		package_drop_if_empty(pk);
	}
	HASH_ITER(hh, manifest, d, dtmp) {
		HASH_DELETE(hh, manifest, d);
		free(d->key);
		free(d);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		TOOL_LONG_OPTIONS,
		MANAGER_LONG_OPTIONS,
		{ "declare", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ubinder_call self_call = { .sender_pid = getpid(), .sender_euid = geteuid() };
	struct tool_args args = { NULL, NULL };
	struct manager m = { .prog = "ubinder-hwservicemanager",
			     .tick_ms = MANAGER_DEFAULT_INTERVAL,
			     .tick = check_all_clients };
	const char *path;
	char buf[PATH_MAX];
	int opt, bad, status = 0;

	while ((opt = getopt_long(argc, argv, TOOL_SHORT_OPTIONS MANAGER_SHORT_OPTIONS "d:",
				  options, NULL)) != -1) {
		if (opt == 'd') {
			if (add_declared(optarg)) {
				free_all();
				return 2;
			}
			continue;
		}
		if (!manager_option(opt, &m, &status) &&
		    !tool_common_option(opt, &args, "ubinder-hwservicemanager", usage, &status))
			status = 2;
		if (status >= 0) {
			free_all();
			return status;
		}
	}
	status = 0;
	if (optind < argc) {
		fprintf(stderr, "ubinder-hwservicemanager: unexpected argument '%s'\n",
			argv[optind]);
		free_all();
		return 2;
	}
	/* Without --socket, the default socket of the hwbinder context. */
	path = tool_socket_path("ubinder-hwservicemanager", args.socket,
				args.context || args.socket ? args.context : "hwbinder", buf,
				sizeof(buf), &bad);
	if (bad) {
		free_all();
		return 2;
	}

	if (manager_start(&m, path, new_self)) {
		free_all();
		return 1;
	}
	/* Android's registers itself as the default instance of its interfaces. */
	do_add(&self_call, "default", m.self, (char **)manager_chain, 4);
	manager_say("ready");
	status = manager_run(&m);
	free_all();
	manager_stop(&m);
	return status;
}
