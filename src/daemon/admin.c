/* SPDX-License-Identifier: MIT */
/*
 * The administration channel behind ubinderctl: state and statistics dumps,
 * reclaim on demand, and fault injection for tests. Only root and the
 * daemon's own uid may use it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
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

void admin_hello(struct conn *conn, const struct ubw_admin_hello *hello)
{
	struct ubw_header h = { UBW_ADMIN | UBW_REPLY, 0 };
	struct iovec iov = { &h, sizeof(h) };

	if (hello->magic != UBW_MAGIC || hello->version != UBW_PROTOCOL_VERSION)
		h.error = -EPROTO;
	else if (conn->cred.uid != 0 && conn->cred.uid != conn->daemon->uid)
		h.error = -EACCES;
	conn_send(conn, &iov, 1, NULL, 0);
	if (h.error)
		daemon_defer_close(conn);
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

void admin_request(struct conn *conn, const struct ubw_admin_request *req, size_t size)
{
	struct daemon *d = conn->daemon;
	char arg[256] = "";
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int err = 0;

	if (req->arg_size != size - sizeof(*req) || req->arg_size >= sizeof(arg)) {
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
		driver_dump_state(d->drv, out, 0);
		break;
	case UBW_ADMIN_PROC:
		driver_dump_state(d->drv, out, (pid_t)req->arg);
		break;
	case UBW_ADMIN_STATS:
		fprintf(out, "copy workers busy: %u\n", copier_busy(&d->copier));
		driver_dump_stats(d->drv, out);
		break;
	case UBW_ADMIN_TRANSACTIONS:
		driver_dump_transactions(d->drv, out);
		break;
	case UBW_ADMIN_SHRINK:
		fprintf(out, "released %zu pages\n",
			driver_shrink(d->drv, req->arg < 0 ? SIZE_MAX : (size_t)req->arg));
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
