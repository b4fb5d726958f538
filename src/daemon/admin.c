/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "wire/wire.h"
#include "region/region.h"

static void send_text(struct conn *conn, int error, const char *text, size_t len)
{
	const size_t chunk = UBW_MAX_MESSAGE - sizeof(struct ubw_admin_reply);
	size_t off = 0;

	do {
		size_t n = len - off < chunk ? len - off : chunk;
		struct ubw_admin_reply r = {
			.hdr = { UBW_ADMIN_REQUEST | UBW_REPLY, error },
			.text_size = (uint32_t)n,
			.flags = off + n == len ? UBW_ADMIN_LAST : 0,
		};
		struct iovec iov[2] = { { &r, sizeof(r) }, { (void *)(text + off), n } };

		if (conn_send(conn, iov, 2, NULL, 0) < 0)
			return;
		off += n;
	} while (off < len);
}

static void admin_open(void *env, struct conn *conn, const void *msg, struct conn_rx *rx)
{
	const struct admin *a = env;
	const struct ubw_admin_hello *hello = msg;
	struct ubw_header h = { UBW_ADMIN | UBW_REPLY, 0 };
	struct iovec iov = { &h, sizeof(h) };

	(void)rx;
	if (hello->magic != UBW_MAGIC || hello->version != UBW_PROTOCOL_VERSION)
		h.error = -EPROTO;
	else if (conn->cred.uid != 0 && conn->cred.uid != a->uid)
		h.error = -EACCES;
	conn_send(conn, &iov, 1, NULL, 0);
	if (h.error)
		conn_defer_close(conn);
}

/* "install N PAGES ERRNO [COUNT]": the Nth page install from now (and COUNT - 1 after it) fails. */
static int admin_fault(const char *arg, FILE *out)
{
	unsigned int nth, err, count = 1;
	size_t pages;
	int n = sscanf(arg, "install %u %zu %u %u", &nth, &pages, &err, &count);

	if (n < 3 || err == 0 || err > 4095 || count == 0)
		return -EINVAL;
	region_inject_install_faults(nth, count, pages, (int)err);
	fprintf(out,
		"fault armed: install %u (and %u after it) fails after %zu pages with errno %u\n",
		nth, count - 1, pages, err);
	return 0;
}

static void admin_packet(void *env, struct conn *conn, const uint8_t *msg, size_t size,
			 struct conn_rx *rx)
{
	const struct ubw_admin_request *req = (const void *)msg;
	struct admin *a = env;
	char arg[256] = "";
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int err = 0;

	(void)rx;
	if (req->hdr.type != UBW_ADMIN_REQUEST || size < sizeof(*req) ||
	    req->arg_size != size - sizeof(*req) || req->arg_size >= sizeof(arg)) {
		conn_protocol_error(conn, "bad admin request");
		return;
	}
	memcpy(arg, req + 1, req->arg_size);
	out = open_memstream(&text, &len);
	if (!out) {
		send_text(conn, -ENOMEM, "", 0);
		return;
	}
	switch (req->op) {
	case UBW_ADMIN_STATE:
		driver_dump_state(a->drv, out, 0);
		break;
	case UBW_ADMIN_PROC:
		driver_dump_state(a->drv, out, (pid_t)req->arg);
		if (a->dump_proc)
			a->dump_proc(a->stats_ctx, (pid_t)req->arg, out);
		break;
	case UBW_ADMIN_STATS:
		a->dump_stats(a->stats_ctx, out);
		driver_dump_stats(a->drv, out);
		break;
	case UBW_ADMIN_TRANSACTIONS:
		driver_dump_transactions(a->drv, out);
		break;
	case UBW_ADMIN_SHRINK:
		fprintf(out, "released %zu pages\n",
			driver_shrink(a->drv, req->arg < 0 ? SIZE_MAX : (size_t)req->arg));
		break;
	case UBW_ADMIN_FAULT:
		err = admin_fault(arg, out);
		break;
	default:
		err = -EINVAL;
		break;
	}
	fclose(out);
	send_text(conn, err, text, len);
	free(text);
}

void admin_init(struct admin *a, struct driver *drv, uid_t uid,
		void (*dump_stats)(void *ctx, FILE *out),
		void (*dump_proc)(void *ctx, pid_t pid, FILE *out), void *stats_ctx)
{
	a->dump_proc = dump_proc;
	a->drv = drv;
	a->uid = uid;
	a->dump_stats = dump_stats;
	a->stats_ctx = stats_ctx;
	a->role = (struct conn_role){
		.name = "admin connection",
		.first_type = UBW_ADMIN,
		.first_size = sizeof(struct ubw_admin_hello),
		.env = a,
		.open = admin_open,
		.packet = admin_packet,
	};
}
