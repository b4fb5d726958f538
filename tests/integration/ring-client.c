/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ring-client.h"
#include "wire/encode.h"
#include "wire/packet.h"
#include "wire/wire.h"

int ring_client_open(struct ring_client *h, const char *sock, uint32_t cap, bool keep_memfd)
{
	struct ubw_ring_request req = { .hdr = { UBW_RING, 0 }, .cap = cap };
	struct ubw_ring_reply reply;
	struct iovec iov = { &req, sizeof(req) };
	int fds[2] = { -1, -1 };
	size_t nfds = 0;
	int flags = 0, err;
	ssize_t n;

	memset(h, 0, sizeof(*h));
	h->bell = h->memfd = -1;
	h->map = MAP_FAILED;
	err = rc_open(&h->c, sock, 1 << 20);
	if (err)
		return err;
	if (ubw_send_packet(h->c.t.sock, &iov, 1, NULL, 0, MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		err = -errno;
		goto fail;
	}
	n = ubw_recv_packet(h->c.t.sock, &reply, sizeof(reply), fds, 2, &nfds, 0, &flags);
	if (n != (ssize_t)sizeof(reply) || reply.hdr.type != (UBW_RING | UBW_REPLY)) {
		err = -EPROTO;
		goto fail;
	}
	if (reply.hdr.error) {
		err = reply.hdr.error;
		goto fail;
	}
	if (nfds != 2) {
		err = -EPROTO;
		goto fail;
	}
	h->cap = cap;
	h->map_size = ubw_ring_map_size(cap);
	h->map = mmap(NULL, h->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (h->map == MAP_FAILED || madvise(h->map, h->map_size, MADV_DONTFORK) < 0) {
		err = -errno;
		goto fail;
	}
	h->hdr = h->map;
	ubw_ring_views(h->map, cap, false, &h->req, &h->rep);
	h->bell = fds[1];
	fds[1] = -1;
	if (keep_memfd)
		h->memfd = fds[0];
	else
		close(fds[0]);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	ring_client_close(h);
	return err;
}

void ring_client_close(struct ring_client *h)
{
	if (h->map != MAP_FAILED && h->map)
		munmap(h->map, h->map_size);
	h->map = MAP_FAILED;
	if (h->bell >= 0)
		close(h->bell);
	if (h->memfd >= 0)
		close(h->memfd);
	h->bell = h->memfd = -1;
	rc_close(&h->c);
}

static void ring_bell(struct ring_client *h, bool force)
{
	uint64_t one = 1;

	/* Dekker with the daemon's sleep: the index is published, then its flag read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&h->hdr->req_bell, 0, __ATOMIC_SEQ_CST) || force)
		(void)!write(h->bell, &one, sizeof(one));
}

void ring_client_publish(struct ring_client *h, uint32_t tail, bool force_bell)
{
	__atomic_store_n(&h->hdr->req_tail, tail, __ATOMIC_RELEASE);
	ring_bell(h, force_bell);
}

int ring_client_send(struct ring_client *h, const void *p, size_t len)
{
	struct iovec iov = { (void *)p, len };
	int err = ubw_ring_put(&h->req, &iov, 1, len);

	if (!err)
		ring_bell(h, false);
	return err;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* One packet from the socket (blocking, bounded by @timeout_ms). */
static long socket_packet(struct ring_client *h, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { h->c.t.sock, POLLIN, 0 };
	int fds[UBW_MAX_FDS];
	size_t nfds = 0;
	int flags = 0;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) == 0)
		return -ETIMEDOUT;
	n = ubw_recv_packet(h->c.t.sock, buf, size, fds, UBW_MAX_FDS, &nfds, MSG_DONTWAIT, &flags);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (n == 0 || (n < 0 && errno != EAGAIN))
		return -ECONNRESET;
	return n < 0 ? -ETIMEDOUT : n;
}

long ring_client_recv(struct ring_client *h, void *buf, size_t size, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		long left = deadline - now_ms(), n;
		struct pollfd p = { h->c.t.sock, POLLIN, 0 };
		uint8_t peek[sizeof(struct ubw_header)];

		if (left < 0)
			left = 0;
		n = ubw_ring_get(&h->rep, buf, size);
		if (n > 0)
			return n;
		if (n == UBW_RING_GOT_MARKER)
			return socket_packet(h, buf, size, (int)left);
		if (n < 0)
			return -EPROTO;
		/* Empty: wait on the socket, where the daemon then sends (a marker
		 * in the ring, the packet on the socket) or kicks us back. */
		__atomic_store_n(&h->hdr->rep_sleep, UBW_RING_SOCKET_WAIT, __ATOMIC_SEQ_CST);
		if (ubw_ring_pending(&h->rep)) {
			__atomic_store_n(&h->hdr->rep_sleep, UBW_RING_AWAKE, __ATOMIC_SEQ_CST);
			continue;
		}
		if (poll(&p, 1, (int)left) == 0)
			return -ETIMEDOUT;
		n = recv(h->c.t.sock, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -ECONNRESET;
		if (n == (long)sizeof(peek) &&
		    ((struct ubw_header *)peek)->type == (UBW_RING_KICK | UBW_REPLY))
			(void)recv(h->c.t.sock, peek, sizeof(peek), MSG_DONTWAIT);
		/* Anything else follows a marker in the ring: take the ring first. */
	}
}

bool ring_client_dropped(struct ring_client *h, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { h->c.t.sock, POLLIN, 0 };
		uint8_t buf[512];
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return false;
		/* Whatever the daemon still sent before it closed, then the end. */
		n = recv(h->c.t.sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
}

long ring_client_build_bwr(void *pkt, size_t pkt_size, const void *cmds, size_t cmds_len,
			   const void *seg, size_t seg_len, uint64_t read_size, bool nonblock)
{
	struct ubw_write_read *wr = pkt;
	uint8_t *body = (uint8_t *)(wr + 1);
	struct ubw_write_read_body b = { .write_len = (uint32_t)cmds_len };
	size_t seg_bytes = seg_len ? ubw_segment_size(seg_len) : 0;
	size_t need;

	b.nsegments = seg_len ? 1 : 0;
	b.segments_len = seg_bytes;
	need = sizeof(*wr) + ubw_write_read_body_size(&b);
	if (need > pkt_size)
		return -ENOSPC;
	memset(pkt, 0, need);
	if (cmds_len)
		memcpy(body, cmds, cmds_len);
	if (seg_len) {
		/* The segments follow the write section (no descriptors). */
		uint8_t *s = body + ubw_write_read_fds_offset(&b);

		ubw_encode_segment(s, (uint64_t)(uintptr_t)seg, seg_len);
		memcpy(s + sizeof(struct ubw_segment), seg, seg_len);
		b.segments = s;
	}
	ubw_encode_write_read(wr, body, &b);
	wr->hdr.type = UBW_WRITE_READ;
	wr->write_size = cmds_len;
	wr->read_size = read_size;
	wr->flags = nonblock ? UBW_WR_NONBLOCK : 0;
	return (long)need;
}

int ring_client_bwr(struct ring_client *h, const void *pkt, size_t len, void *read,
		    size_t read_size, size_t *read_len, int timeout_ms)
{
	static uint8_t buf[UBW_MAX_MESSAGE];
	const struct ubw_write_read_reply *r = (const void *)buf;
	long n;
	int err = ring_client_send(h, pkt, len);

	if (err)
		return err;
	*read_len = 0;
	n = ring_client_recv(h, buf, sizeof(buf), timeout_ms);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(*r) || r->hdr.type != (UBW_WRITE_READ | UBW_REPLY))
		return -EPROTO;
	if (r->read_consumed > read_size || sizeof(*r) + r->read_consumed > (size_t)n)
		return -EPROTO;
	memcpy(read, r + 1, r->read_consumed);
	*read_len = r->read_consumed;
	return r->hdr.error;
}

/* The first BR_REPLY (or failure) among the read's @len bytes; 0 if none. */
static uint32_t find_end(const uint8_t *p, size_t len, struct binder_transaction_data *tr)
{
	size_t off = 0;

	while (off + sizeof(uint32_t) <= len) {
		uint32_t cmd;

		memcpy(&cmd, p + off, sizeof(cmd));
		off += sizeof(cmd) + _IOC_SIZE(cmd);
		switch (cmd) {
		case BR_REPLY:
			if (off > len)
				return 0;
			memcpy(tr, p + off - sizeof(*tr), sizeof(*tr));
			return cmd;
		case BR_DEAD_REPLY:
		case BR_FAILED_REPLY:
		case BR_FROZEN_REPLY:
			return cmd;
		default:
			break;
		}
	}
	return 0;
}

uint32_t ring_client_call(struct ring_client *h, uint32_t code, const void *data, size_t size,
			  void *echo, size_t echo_size, int timeout_ms)
{
	struct binder_transaction_data tr = {
		.target.handle = 0,
		.code = code,
		.data_size = size,
		.data.ptr.buffer = (binder_uintptr_t)(uintptr_t)data,
	};
	static uint8_t pkt[UBW_MAX_MESSAGE];
	uint8_t cmds[sizeof(uint32_t) + sizeof(tr)], rd[512];
	uint32_t bc = BC_TRANSACTION, end = 0;
	size_t rlen = 0;
	long len;

	memcpy(cmds, &bc, sizeof(bc));
	memcpy(cmds + sizeof(bc), &tr, sizeof(tr));
	len = ring_client_build_bwr(pkt, sizeof(pkt), cmds, sizeof(cmds), data, size, sizeof(rd),
				    false);
	if (len < 0 || ring_client_bwr(h, pkt, (size_t)len, rd, sizeof(rd), &rlen, timeout_ms))
		return 0;
	/* Then reads until the reply (the first read ends at BR_TRANSACTION_COMPLETE). */
	for (int i = 0; i < 8 && !(end = find_end(rd, rlen, &tr)); i++) {
		len = ring_client_build_bwr(pkt, sizeof(pkt), NULL, 0, NULL, 0, sizeof(rd), false);
		if (ring_client_bwr(h, pkt, (size_t)len, rd, sizeof(rd), &rlen, timeout_ms))
			return 0;
	}
	if (end == BR_REPLY) {
		uint64_t buffer = tr.data.ptr.buffer;
		uint8_t free_cmd[sizeof(uint32_t) + sizeof(uint64_t)];

		if (echo)
			memcpy(echo, (const void *)(uintptr_t)buffer,
			       tr.data_size < echo_size ? tr.data_size : echo_size);
		bc = BC_FREE_BUFFER;
		memcpy(free_cmd, &bc, sizeof(bc));
		memcpy(free_cmd + sizeof(bc), &buffer, sizeof(buffer));
		len = ring_client_build_bwr(pkt, sizeof(pkt), free_cmd, sizeof(free_cmd), NULL, 0,
					    0, true);
		if (ring_client_bwr(h, pkt, (size_t)len, rd, sizeof(rd), &rlen, timeout_ms))
			return 0;
	}
	return end;
}

int ring_mappings(pid_t pid)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "memfd:ubinder-ring"))
			n++;
	}
	fclose(f);
	return n;
}
