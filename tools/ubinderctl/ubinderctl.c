/* SPDX-License-Identifier: MIT */
/*
 * ubinderctl: talk to services and inspect a running ubinderd.
 *
 * Service commands (list, ping, call) go through libubinder and the service
 * manager; introspection commands (state, stats, proc, transactions,
 * shrink) use the daemon's admin channel (UBW_ADMIN in src/wire/wire.h).
 * docs/tools.md is the manual.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "socket-arg.h"
#include "ubinder-config.h"
#include "ubinder/ubinder.h"
#include "wire/wire.h"
#include "wire/trust.h"

static const char usage[] =
	"Usage: ubinderctl [OPTION]... COMMAND [ARG]...\n"
	"Talks to Binder services through ubinderd and inspects the daemon.\n"
	"\n"
	"Services (through the service manager):\n"
	"  list                       the registered services (on a hwbinder context,\n"
	"                             the HIDL manager's fqName/instance names)\n"
	"  ping NAME                  ping a service; print its interface and round trip\n"
	"                             (HIDL: NAME is fqName/instance; IBase's ping)\n"
	"  dump NAME [ARG]...         the service's dump (DUMP_TRANSACTION), to stdout\n"
	"  call [CALL-OPTION]... NAME CODE [ARG]...\n"
	"                             call a service and print the reply. CODE is a number\n"
	"                             (decimal or 0x...) or PING, INTERFACE, DUMP. ARGs are\n"
	"                             typed: i32:N u32:N i64:N u64:N bool:true|false f:X\n"
	"                             d:X s:TEXT (String16) s8:TEXT (String8) bytes:HEX\n"
	"                             fd:PATH (opened read-only) null (a null binder)\n"
	"    --oneway                 do not wait for a reply\n"
	"    --no-token               do not start with the service's interface token\n"
	"    --reply TYPES            decode the reply as TYPES, comma-separated: ex (AIDL\n"
	"                             status), i32 u32 i64 u64 bool f d s s8 bytes binder fd\n"
	"\n"
	"The daemon (admin channel: root or the daemon's user):\n"
	"  state                      every process, thread, node, ref and buffer\n"
	"  stats                      counters\n"
	"  proc PID                   the state of the Binder processes of PID\n"
	"  transactions               transactions in flight\n"
	"  shrink [N|all]             release N (default all) unused pages now\n"
	"\n"
	"Options:\n"
	"  -s, --socket PATH          the context's socket (default: $UBINDER_SOCKET, else\n"
	"                             the default socket of the context)\n"
	"  -c, --context NAME         the context (default binder); with --socket, its\n"
	"                             socket is the one named NAME beside PATH\n"
	"  -a, --api-level N          speak Android API level N's service manager protocol\n"
	"                             (28 to 36; default 34: Android 11-14's, which\n"
	"                             ubinder-servicemanager reads without options)\n"
	"  -h, --help                 show this help and exit\n"
	"  -V, --version              show the version and exit\n"
	"\n"
	"Exit status: 0 on success, 1 on failure, 2 on a usage error.\n";

/* The socket: as given, else $UBINDER_SOCKET, else the context's default. */
static char resolved[PATH_MAX];
/* --api-level: the service manager protocol to speak (0: the library's default). */
static int api_level;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ubinderctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'ubinderctl --help'.\n");
	va_end(ap);
	exit(2);
}

/* --- through libubinder ------------------------------------------------------------- */

static ubinder_context *open_context(void)
{
	ubinder_context *ctx;
	int err = ubinder_context_open(resolved, &ctx);

	if (!err && ubinder_sm_set_api_level(ctx, api_level) != 0) {
		ubinder_context_close(ctx);
		usage_error("bad --api-level %d", api_level);
	}

	if (err == UBINDER_ERR_NO_DAEMON) {
		fprintf(stderr, "ubinderctl: no ubinderd at %s (is the daemon running?)\n",
			resolved);
		exit(1);
	}
	if (err) {
		fprintf(stderr, "ubinderctl: cannot open %s: %s\n", resolved,
			ubinder_strerror(err));
		exit(1);
	}
	return ctx;
}

static void fail_service(const char *name, int err)
{
	if (err == UBINDER_ERR_NAME_NOT_FOUND)
		fprintf(stderr, "ubinderctl: no service named '%s'\n", name);
	else if (err == UBINDER_ERR_DEAD_OBJECT)
		fprintf(stderr, "ubinderctl: no service manager is running in this context\n");
	else
		fprintf(stderr, "ubinderctl: %s: %s (%s)\n", name, ubinder_strerror(err),
			ubinder_status_name(err));
}

/* Whether handle 0 is a HIDL service manager (a hwbinder context's): it
 * answers IBase's interfaceDescriptor; an AIDL one does not know the code. */
static bool hidl_manager(ubinder_context *ctx)
{
	static const char prefix[] = "android.hidl.manager@";
	ubinder_binder *sm = NULL;
	char *desc = NULL;
	bool hidl = ubinder_sm_get(ctx, &sm) == 0 &&
		    ubinder_hidl_interface_descriptor(sm, &desc) == 0 &&
		    strncmp(desc, prefix, sizeof(prefix) - 1) == 0;

	free(desc);
	ubinder_binder_unref(sm);
	return hidl;
}

/* A HIDL service by "fqName/instance". */
static int hidl_get(ubinder_context *ctx, const char *name, ubinder_binder **out)
{
	const char *slash = strrchr(name, '/');
	char *fqname;
	int err;

	if (!slash || slash == name || !slash[1])
		return UBINDER_ERR_NAME_NOT_FOUND;
	fqname = strndup(name, (size_t)(slash - name));
	if (!fqname)
		return UBINDER_ERR_NO_MEMORY;
	err = ubinder_hidl_sm_get(ctx, fqname, slash + 1, out);
	free(fqname);
	return err;
}

static int cmd_list(void)
{
	ubinder_context *ctx = open_context();
	char **names;
	int err = hidl_manager(ctx) ? ubinder_hidl_sm_list(ctx, &names, NULL)
				    : ubinder_sm_list_services(ctx, &names, NULL);

	if (err) {
		fail_service("list", err);
	} else {
		for (char **n = names; *n; n++)
			printf("%s\n", *n);
		ubinder_sm_free_names(names);
	}
	ubinder_context_close(ctx);
	return err ? 1 : 0;
}

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static int cmd_ping(const char *name)
{
	ubinder_context *ctx = open_context();
	struct timespec t0, t1;
	ubinder_binder *b;
	char *iface = NULL;
	bool hidl = hidl_manager(ctx);
	int err = hidl ? hidl_get(ctx, name, &b) : ubinder_sm_check_service(ctx, name, &b);

	if (err) {
		fail_service(name, err);
		ubinder_context_close(ctx);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = hidl ? ubinder_hidl_ping(b) : ubinder_binder_ping(b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!err)
		err = hidl ? ubinder_hidl_interface_descriptor(b, &iface)
			   : ubinder_binder_get_interface(b, &iface);
	if (err)
		fail_service(name, err);
	else
		printf("%s: alive, interface '%s', round trip %.0f us\n", name, iface,
		       elapsed_us(&t0, &t1));
	free(iface);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return err ? 1 : 0;
}

/* DUMP_TRANSACTION with our standard output, as dumpsys does: the service writes there. */
static int cmd_dump(int argc, char **argv)
{
	ubinder_context *ctx = open_context();
	ubinder_parcel *data = ubinder_parcel_new();
	ubinder_binder *b = NULL;
	int err = data ? ubinder_sm_check_service(ctx, argv[0], &b) : UBINDER_ERR_NO_MEMORY;

	fflush(stdout);
	if (!err)
		err = ubinder_parcel_write_fd(data, STDOUT_FILENO);
	if (!err)
		err = ubinder_parcel_write_int32(data, argc - 1);
	for (int i = 1; !err && i < argc; i++)
		err = ubinder_parcel_write_string16_utf8(data, argv[i]);
	if (!err)
		err = ubinder_binder_transact(b, UBINDER_DUMP_TRANSACTION, data, 0, NULL);
	if (err)
		fail_service(argv[0], err);
	ubinder_parcel_free(data);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return err ? 1 : 0;
}

/* --- call ------------------------------------------------------------------------------ */

static int parse_code(const char *s, uint32_t *code)
{
	char *end;
	unsigned long v;

	if (strcmp(s, "PING") == 0)
		*code = UBINDER_PING_TRANSACTION;
	else if (strcmp(s, "INTERFACE") == 0)
		*code = UBINDER_INTERFACE_TRANSACTION;
	else if (strcmp(s, "DUMP") == 0)
		*code = UBINDER_DUMP_TRANSACTION;
	else {
		errno = 0;
		v = strtoul(s, &end, 0);
		if (errno || end == s || *end || v > UINT32_MAX)
			return -1;
		*code = (uint32_t)v;
	}
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Writes one typed argument; exits with a usage error if it is malformed. */
static void write_arg(ubinder_parcel *p, const char *arg)
{
	const char *colon = strchr(arg, ':');
	const char *v = colon ? colon + 1 : "";
	size_t tlen = colon ? (size_t)(colon - arg) : strlen(arg);
	bool numeric = true; /* the value is parsed with strto*(): check where it ends */
	char *end = NULL;
	int err = 0;

#define TYPE_IS(t) (tlen == strlen(t) && strncmp(arg, t, tlen) == 0)
	errno = 0;
	if (TYPE_IS("null") && !colon) {
		err = ubinder_parcel_write_binder(p, NULL);
		numeric = false;
	} else if (!colon) {
		usage_error("argument '%s' has no type (e.g. i32:5, s:text)", arg);
	} else if (TYPE_IS("i32")) {
		long long x = strtoll(v, &end, 0);

		if (x < INT32_MIN || x > INT32_MAX)
			errno = ERANGE;
		err = ubinder_parcel_write_int32(p, (int32_t)x);
	} else if (TYPE_IS("u32")) {
		unsigned long long x = strtoull(v, &end, 0);

		if (x > UINT32_MAX || v[0] == '-')
			errno = ERANGE;
		err = ubinder_parcel_write_uint32(p, (uint32_t)x);
	} else if (TYPE_IS("i64")) {
		err = ubinder_parcel_write_int64(p, strtoll(v, &end, 0));
	} else if (TYPE_IS("u64")) {
		if (v[0] == '-')
			errno = ERANGE;
		err = ubinder_parcel_write_uint64(p, strtoull(v, &end, 0));
	} else if (TYPE_IS("bool")) {
		if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0"))
			usage_error("bad bool in '%s' (true or false)", arg);
		err = ubinder_parcel_write_bool(p, !strcmp(v, "true") || !strcmp(v, "1"));
		numeric = false;
	} else if (TYPE_IS("f")) {
		err = ubinder_parcel_write_float(p, strtof(v, &end));
	} else if (TYPE_IS("d")) {
		err = ubinder_parcel_write_double(p, strtod(v, &end));
	} else if (TYPE_IS("s") || TYPE_IS("s16")) {
		err = ubinder_parcel_write_string16_utf8(p, v);
		numeric = false;
	} else if (TYPE_IS("s8")) {
		err = ubinder_parcel_write_string8(p, v);
		numeric = false;
	} else if (TYPE_IS("bytes")) {
		size_t n = strlen(v) / 2;
		unsigned char *bytes = malloc(n + 1);

		if (!bytes || strlen(v) % 2)
			usage_error("bad hex in '%s'", arg);
		for (size_t i = 0; i < n; i++) {
			int hi = hex_value(v[2 * i]), lo = hex_value(v[2 * i + 1]);

			if (hi < 0 || lo < 0)
				usage_error("bad hex in '%s'", arg);
			bytes[i] = (unsigned char)(hi << 4 | lo);
		}
		err = ubinder_parcel_write_byte_array(p, bytes, n);
		free(bytes);
		numeric = false;
	} else if (TYPE_IS("fd")) {
		int fd = open(v, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "ubinderctl: cannot open %s: %s\n", v, strerror(errno));
			exit(1);
		}
		err = ubinder_parcel_write_fd(p, fd);
		close(fd);
		numeric = false;
	} else {
		usage_error("unknown argument type in '%s'", arg);
	}
#undef TYPE_IS
	if (errno || (numeric && (!end || end == v || *end)))
		usage_error("bad value in '%s'", arg);
	if (err) {
		fprintf(stderr, "ubinderctl: cannot write '%s': %s\n", arg, ubinder_strerror(err));
		exit(1);
	}
}

static void print_hex(const ubinder_parcel *p)
{
	const unsigned char *d = ubinder_parcel_get_data(p);
	size_t size = ubinder_parcel_get_size(p);

	for (size_t line = 0; line < size; line += 16) {
		printf("  %04zx:", line);
		for (size_t i = line; i < line + 16; i += 4) {
			uint32_t w = 0;

			if (i >= size) {
				printf("         ");
				continue;
			}
			memcpy(&w, d + i, size - i < 4 ? size - i : 4);
			printf(" %08" PRIx32, w);
		}
		printf("  '");
		for (size_t i = line; i < line + 16 && i < size; i++)
			putchar(d[i] >= 0x20 && d[i] < 0x7f ? d[i] : '.');
		printf("'\n");
	}
}

static void print_objects(const ubinder_parcel *p)
{
	static const char *const kinds[] = { "?", "binder (local)", "handle (remote)", "fd",
					     "other" };

	for (size_t i = 0; i < ubinder_parcel_get_object_count(p); i++) {
		enum ubinder_object_kind kind;
		size_t off;

		ubinder_parcel_get_object(p, i, &off, &kind);
		printf("  object %zu at %zu: %s\n", i, off, kinds[kind <= 4 ? kind : 0]);
	}
}

static void print_string(const char *s)
{
	if (!s) {
		printf("null\n");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\x%02x", (unsigned char)*s);
		else
			putchar(*s);
	}
	printf("\"\n");
}

/* Prints one value of @type; returns a status. */
static int print_value(ubinder_parcel *p, const char *type)
{
	int err;

	printf("  %s: ", type);
	if (!strcmp(type, "ex")) {
		int32_t ex = 0;

		err = ubinder_parcel_read_exception(p, &ex);
		if (!err || ex != 0) {
			printf("%d%s\n", ex, ex ? " (exception)" : " (no exception)");
			return 0;
		}
	} else if (!strcmp(type, "i32")) {
		int32_t v;

		if (!(err = ubinder_parcel_read_int32(p, &v)))
			printf("%" PRId32 "\n", v);
	} else if (!strcmp(type, "u32")) {
		uint32_t v;

		if (!(err = ubinder_parcel_read_uint32(p, &v)))
			printf("%" PRIu32 " (0x%" PRIx32 ")\n", v, v);
	} else if (!strcmp(type, "i64")) {
		int64_t v;

		if (!(err = ubinder_parcel_read_int64(p, &v)))
			printf("%" PRId64 "\n", v);
	} else if (!strcmp(type, "u64")) {
		uint64_t v;

		if (!(err = ubinder_parcel_read_uint64(p, &v)))
			printf("%" PRIu64 " (0x%" PRIx64 ")\n", v, v);
	} else if (!strcmp(type, "bool")) {
		bool v;

		if (!(err = ubinder_parcel_read_bool(p, &v)))
			printf("%s\n", v ? "true" : "false");
	} else if (!strcmp(type, "f")) {
		float v;

		if (!(err = ubinder_parcel_read_float(p, &v)))
			printf("%g\n", (double)v);
	} else if (!strcmp(type, "d")) {
		double v;

		if (!(err = ubinder_parcel_read_double(p, &v)))
			printf("%g\n", v);
	} else if (!strcmp(type, "s") || !strcmp(type, "s16")) {
		char *s;

		if (!(err = ubinder_parcel_read_string16_utf8(p, &s)))
			print_string(s);
		free(s);
	} else if (!strcmp(type, "s8")) {
		const char *s;

		if (!(err = ubinder_parcel_read_string8(p, &s)))
			print_string(s);
	} else if (!strcmp(type, "bytes")) {
		const void *data;
		size_t len;

		if (!(err = ubinder_parcel_read_byte_array(p, &data, &len))) {
			if (!data)
				printf("null");
			for (size_t i = 0; data && i < len; i++)
				printf("%02x", ((const unsigned char *)data)[i]);
			printf("\n");
		}
	} else if (!strcmp(type, "binder")) {
		ubinder_binder *b;

		if (!(err = ubinder_parcel_read_binder(p, &b))) {
			char *iface = NULL;

			if (b && ubinder_binder_get_interface(b, &iface) == 0)
				printf("binder '%s'\n", iface);
			else
				printf("%s\n", b ? "binder" : "null");
			free(iface);
			ubinder_binder_unref(b);
		}
	} else if (!strcmp(type, "fd")) {
		int fd;

		if (!(err = ubinder_parcel_read_fd(p, &fd)))
			printf("fd %d\n", fd);
	} else {
		printf("unknown type\n");
		return UBINDER_ERR_BAD_VALUE;
	}
	if (err)
		printf("cannot read: %s\n", ubinder_status_name(err));
	return err;
}

static int cmd_call(int argc, char **argv)
{
	static const struct option options[] = {
		{ "oneway", no_argument, NULL, 'o' },
		{ "no-token", no_argument, NULL, 'n' },
		{ "reply", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	bool oneway = false, token = true;
	const char *reply_types = NULL;
	ubinder_parcel *data, *reply = NULL;
	ubinder_context *ctx;
	ubinder_binder *b;
	uint32_t code;
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			oneway = true;
			break;
		case 'n':
			token = false;
			break;
		case 'r':
			reply_types = optarg;
			break;
		default:
			usage_error("bad call option");
		}
	}
	if (argc - optind < 2)
		usage_error("call needs NAME and CODE");
	if (parse_code(argv[optind + 1], &code))
		usage_error("bad transaction code '%s'", argv[optind + 1]);
	data = ubinder_parcel_new();
	if (!data)
		return 1;
	ctx = open_context();
	err = ubinder_sm_check_service(ctx, argv[optind], &b);
	if (err) {
		fail_service(argv[optind], err);
		goto out;
	}
	if (token && code >= UBINDER_FIRST_CALL_TRANSACTION &&
	    code <= UBINDER_LAST_CALL_TRANSACTION) {
		char *iface = NULL;

		err = ubinder_binder_get_interface(b, &iface);
		if (!err && iface[0])
			err = ubinder_parcel_write_interface_token(data, iface);
		free(iface);
	}
	for (int i = optind + 2; !err && i < argc; i++)
		write_arg(data, argv[i]);
	if (!err)
		err = ubinder_binder_transact(b, code, data, oneway ? UBINDER_FLAG_ONEWAY : 0,
					      &reply);
	ubinder_binder_unref(b);
	if (err) {
		fprintf(stderr, "ubinderctl: call failed: %s (%s)\n", ubinder_status_name(err),
			ubinder_strerror(err));
		goto out;
	}
	if (oneway) {
		printf("sent (oneway)\n");
		goto out;
	}
	printf("reply: %zu bytes, %zu objects\n", ubinder_parcel_get_size(reply),
	       ubinder_parcel_get_object_count(reply));
	print_hex(reply);
	print_objects(reply);
	if (reply_types) {
		char *types = strdup(reply_types), *save = NULL;

		for (char *t = strtok_r(types, ",", &save); t && !err;
		     t = strtok_r(NULL, ",", &save))
			err = print_value(reply, t);
		free(types);
		if (!err && ubinder_parcel_get_position(reply) < ubinder_parcel_get_size(reply))
			printf("  (%zu bytes not decoded)\n",
			       ubinder_parcel_get_size(reply) - ubinder_parcel_get_position(reply));
	}
out:
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	ubinder_context_close(ctx);
	return err ? 1 : 0;
}

/* --- the admin channel -------------------------------------------------------------------- */

static int admin_connect(void)
{
	struct ubw_admin_hello hello = { { UBW_ADMIN, 0 }, UBW_MAGIC, UBW_PROTOCOL_VERSION };
	struct ubw_header reply;
	int fd = ubw_connect_trusted(&ubw_trust_libc,
				     resolved); /* a refusal is explained on stderr */

	if (fd == -ENAMETOOLONG) {
		fprintf(stderr, "ubinderctl: socket path too long\n");
		exit(1);
	}
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		fprintf(stderr, "ubinderctl: no ubinderd at %s (is the daemon running?)\n",
			resolved);
		exit(1);
	}
	if (fd < 0) {
		if (fd != -EACCES && fd != -EPERM)
			fprintf(stderr, "ubinderctl: cannot connect to %s: %s\n", resolved,
				strerror(-fd));
		exit(1);
	}
	if (send(fd, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello) ||
	    recv(fd, &reply, sizeof(reply), 0) != sizeof(reply) ||
	    reply.type != (UBW_ADMIN | UBW_REPLY)) {
		fprintf(stderr, "ubinderctl: %s: not a ubinderd admin channel\n", resolved);
		exit(1);
	}
	if (reply.error == -EACCES) {
		fprintf(stderr, "ubinderctl: permission denied: the admin channel is for root and "
				"the daemon's user\n");
		exit(1);
	}
	if (reply.error) {
		fprintf(stderr, "ubinderctl: admin channel refused: %s\n", strerror(-reply.error));
		exit(1);
	}
	return fd;
}

static int cmd_admin(uint32_t op, int64_t arg)
{
	static uint8_t buf[UBW_MAX_MESSAGE];
	struct ubw_admin_request req = { .hdr = { UBW_ADMIN_REQUEST, 0 }, .op = op, .arg = arg };
	int fd = admin_connect();
	int status = 0;

	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
		fprintf(stderr, "ubinderctl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		const struct ubw_admin_reply *r = (const void *)buf;

		if (n < (ssize_t)sizeof(*r) || r->hdr.type != (UBW_ADMIN_REQUEST | UBW_REPLY) ||
		    r->text_size > (size_t)n - sizeof(*r)) {
			fprintf(stderr, "ubinderctl: bad reply from the daemon\n");
			status = 1;
			break;
		}
		fwrite(r + 1, 1, r->text_size, stdout);
		if (r->hdr.error && (r->flags & UBW_ADMIN_LAST)) {
			fprintf(stderr, "ubinderctl: the daemon refused: %s\n",
				strerror(-r->hdr.error));
			status = 1;
		}
		if (r->flags & UBW_ADMIN_LAST)
			break;
	}
	close(fd);
	return status;
}

static int64_t parse_number(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		usage_error("bad %s '%s'", what, s);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = { TOOL_LONG_OPTIONS,
						 { "api-level", required_argument, NULL, 'a' },
						 { NULL, 0, NULL, 0 } };
	struct tool_args args = { NULL, NULL };
	const char *cmd;
	int opt, bad, nargs, status;

	while ((opt = getopt_long(argc, argv, "+" TOOL_SHORT_OPTIONS "a:", options, NULL)) != -1) {
		if (opt == 'a') {
			api_level = (int)parse_number(optarg, "API level");
			if (api_level < 28 || api_level > 36)
				usage_error("--api-level takes 28 to 36, not '%s'", optarg);
			continue;
		}
		if (!tool_common_option(opt, &args, "ubinderctl", usage, &status))
			status = 2;
		if (status >= 0)
			return status;
	}
	if (!tool_socket_path("ubinderctl", args.socket, args.context, resolved, sizeof(resolved),
			      &bad)) {
		if (bad)
			return 2;
		/* What ubinder_context_open(NULL) would connect to. */
		if (getenv("UBINDER_SOCKET") && getenv("UBINDER_SOCKET")[0])
			snprintf(resolved, sizeof(resolved), "%s", getenv("UBINDER_SOCKET"));
		else
			ubinder_default_socket("binder", resolved, sizeof(resolved));
	}
	if (optind >= argc)
		usage_error("missing command");
	cmd = argv[optind];
	nargs = argc - optind - 1;
#define ARGS(lo, hi)                                                  \
	do {                                                          \
		if (nargs < (lo) || nargs > (hi))                     \
			usage_error("wrong arguments for '%s'", cmd); \
	} while (0)
	if (!strcmp(cmd, "list")) {
		ARGS(0, 0);
		return cmd_list();
	}
	if (!strcmp(cmd, "ping")) {
		ARGS(1, 1);
		return cmd_ping(argv[optind + 1]);
	}
	if (!strcmp(cmd, "call"))
		return cmd_call(argc - optind, argv + optind);
	if (!strcmp(cmd, "dump")) {
		ARGS(1, 64);
		return cmd_dump(nargs, argv + optind + 1);
	}
	if (!strcmp(cmd, "state")) {
		ARGS(0, 0);
		return cmd_admin(UBW_ADMIN_STATE, 0);
	}
	if (!strcmp(cmd, "stats")) {
		ARGS(0, 0);
		return cmd_admin(UBW_ADMIN_STATS, 0);
	}
	if (!strcmp(cmd, "proc")) {
		ARGS(1, 1);
		return cmd_admin(UBW_ADMIN_PROC, parse_number(argv[optind + 1], "pid"));
	}
	if (!strcmp(cmd, "transactions")) {
		ARGS(0, 0);
		return cmd_admin(UBW_ADMIN_TRANSACTIONS, 0);
	}
	if (!strcmp(cmd, "shrink")) {
		ARGS(0, 1);
		if (nargs == 0 || !strcmp(argv[optind + 1], "all"))
			return cmd_admin(UBW_ADMIN_SHRINK, -1);
		return cmd_admin(UBW_ADMIN_SHRINK, parse_number(argv[optind + 1], "page count"));
	}
#undef ARGS
	usage_error("unknown command '%s'", cmd);
	return 2;
}
