/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <uthash.h>

#include "common/log.h"
#include "fuse/fuse_server.h"

#define ROOT_ID	     FUSE_ROOT_ID
#define MAX_WRITE    (128u << 10)
#define ATTR_VALID_S 3600 /* a device inode never changes */
#define FUSE_MIN_BUF 8192u
/*
 * Inode numbers of device files, counted up from here: unlike small
 * numbers, no other file system's inodes come near them, so an inode
 * number in /proc/PID/fdinfo or /proc/PID/maps names one of ours.
 */
#define FIRST_NODEID 0x7562000000000000ull

/* An inode: the result of one lookup of a device name. */
struct fb_node {
	uint64_t nodeid;
	uint64_t nlookup;
	size_t ctx; /* index into fs->ctxs */
	UT_hash_handle hh;
};

static struct fb_node *node_find(const struct fuse_server *fs, uint64_t nodeid)
{
	struct fb_node *n = NULL;

	HASH_FIND(hh, fs->nodes, &nodeid, sizeof(nodeid), n);
	return n;
}

static void node_forget(struct fuse_server *fs, uint64_t nodeid, uint64_t count)
{
	struct fb_node *n = node_find(fs, nodeid);

	fs->stats.forgets++;
	if (!n)
		return;
	n->nlookup = count < n->nlookup ? n->nlookup - count : 0;
	if (n->nlookup == 0) {
		HASH_DEL(fs->nodes, n);
		free(n);
	}
}

static void fill_attr(const struct fuse_server *fs, uint64_t nodeid, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	a->blksize = 4096;
	a->uid = a->gid = 0;
	if (nodeid == ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		/* A regular file: a character device's opens would not reach us. */
		a->mode = S_IFREG | 0666;
		a->nlink = 1;
		a->size = fs->file_size;
	}
}

static void reply_attr(struct fuse_server *fs, uint64_t unique, uint64_t nodeid)
{
	struct fuse_attr_out out = { .attr_valid = ATTR_VALID_S };

	fill_attr(fs, nodeid, &out.attr);
	fuse_chan_reply_data(&fs->chan, unique, &out, sizeof(out));
}

static void do_init(struct fuse_server *fs, const struct fuse_in_header *h,
		    const struct fuse_init_in *in)
{
	struct fuse_init_out out = { 0 };

	if (in->major != FUSE_KERNEL_VERSION) {
		fuse_chan_reply_error(&fs->chan, h->unique, -EPROTO);
		return;
	}
	out.major = FUSE_KERNEL_VERSION;
	out.minor = in->minor < FUSE_KERNEL_MINOR_VERSION ? in->minor : FUSE_KERNEL_MINOR_VERSION;
	out.max_readahead = in->max_readahead;
	/* Page cache fills in parallel; nothing else is asked for (no writeback cache). */
	out.flags = in->flags & (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES);
	out.max_background = 64;
	out.congestion_threshold = 48;
	out.max_write = MAX_WRITE;
	out.time_gran = 1;
	out.max_pages = MAX_WRITE / 4096;
	fuse_chan_reply_data(&fs->chan, h->unique, &out, sizeof(out));
	fs->initialized = true;
}

static void do_lookup(struct fuse_server *fs, const struct fuse_in_header *h, const char *name)
{
	struct fuse_entry_out out = { .attr_valid = ATTR_VALID_S };
	struct fb_node *n;

	fs->stats.lookups++;
	if (h->nodeid != ROOT_ID) {
		fuse_chan_reply_error(&fs->chan, h->unique, -ENOTDIR);
		return;
	}
	for (size_t i = 0; i < fs->nctx; i++) {
		if (strcmp(name, fs->ctxs[i].name) != 0)
			continue;
		n = calloc(1, sizeof(*n));
		if (!n) {
			fuse_chan_reply_error(&fs->chan, h->unique, -ENOMEM);
			return;
		}
		/* A new inode every time (entry_valid 0): each open has its own page cache. */
		n->nodeid = ++fs->next_nodeid;
		n->nlookup = 1;
		n->ctx = i;
		HASH_ADD(hh, fs->nodes, nodeid, sizeof(n->nodeid), n);
		out.nodeid = n->nodeid;
		out.generation = 1;
		fill_attr(fs, n->nodeid, &out.attr);
		if (fuse_chan_reply_data(&fs->chan, h->unique, &out, sizeof(out)) < 0)
			node_forget(fs, n->nodeid, 1); /* the lookup was interrupted */
		return;
	}
	fuse_chan_reply_error(&fs->chan, h->unique, -ENOENT);
}

static void do_open(struct fuse_server *fs, const struct fuse_in_header *h,
		    const struct fuse_open_in *in)
{
	struct fuse_open_out out = { 0 };
	struct fb_node *n = node_find(fs, h->nodeid);
	int err;

	if (h->nodeid == ROOT_ID) {
		fuse_chan_reply_error(&fs->chan, h->unique, -EISDIR);
		return;
	}
	if (!n) {
		fuse_chan_reply_error(&fs->chan, h->unique, -ENOENT);
		return;
	}
	/* Two opens raced through one lookup: the page cache would be shared. */
	if (fuse_files_node_open(&fs->files, n->nodeid)) {
		fuse_chan_reply_error(&fs->chan, h->unique, -EBUSY);
		return;
	}
	err = fuse_files_open(&fs->files, fs->ctxs[n->ctx].ctx, n->nodeid, h, in->flags, &out.fh);
	if (err) {
		fuse_chan_reply_error(&fs->chan, h->unique, err);
		return;
	}
	/*
	 * A writable open cannot refuse PROT_WRITE on a shared mapping (the
	 * server never sees mmap): direct I/O makes every shared mapping of it
	 * fail (ENODEV), and private ones (what libbinder and libgbinder map)
	 * still show the page cache. A read-only open's shared writable
	 * mapping the VFS refuses itself (EACCES).
	 */
	out.open_flags = FOPEN_KEEP_CACHE;
	if ((in->flags & O_ACCMODE) != O_RDONLY)
		out.open_flags |= FOPEN_DIRECT_IO;
	if (fuse_chan_reply_data(&fs->chan, h->unique, &out, sizeof(out)) < 0)
		fuse_files_release(&fs->files, out.fh); /* the caller is gone */
}

/* The directory: ".", "..", and the device names. */
static void do_readdir(struct fuse_server *fs, const struct fuse_in_header *h,
		       const struct fuse_read_in *in)
{
	uint8_t out[4096];
	size_t len = 0, max = in->size < sizeof(out) ? in->size : sizeof(out);
	uint64_t i;

	for (i = in->offset; i < fs->nctx + 2; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : fs->ctxs[i - 2].name;
		size_t namelen = strlen(name),
		       entlen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
		struct fuse_dirent *d = (struct fuse_dirent *)(out + len);

		if (len + entlen > max)
			break;
		memset(d, 0, entlen);
		d->ino = i < 2 ? ROOT_ID : 0xffffffffu - i;
		d->off = i + 1;
		d->namelen = (uint32_t)namelen;
		d->type = i < 2 ? DT_DIR : DT_REG;
		memcpy(d->name, name, namelen);
		len += entlen;
	}
	fuse_chan_reply_data(&fs->chan, h->unique, out, len);
}

static void do_read(struct fuse_server *fs, const struct fuse_in_header *h,
		    const struct fuse_read_in *in)
{
	size_t size = in->size < fs->bufsize ? in->size : fs->bufsize;
	uint8_t *buf = malloc(size ? size : 1);
	ssize_t n;

	if (!buf) {
		fuse_chan_reply_error(&fs->chan, h->unique, -ENOMEM);
		return;
	}
	if (in->offset >= fs->file_size)
		size = 0;
	else if (size > fs->file_size - in->offset)
		size = fs->file_size - in->offset;
	n = fuse_files_read(&fs->files, in->fh, in->offset, buf, size);
	if (n < 0)
		fuse_chan_reply_error(&fs->chan, h->unique, (int)n);
	else
		fuse_chan_reply_data(&fs->chan, h->unique, buf, (size_t)n);
	free(buf);
}

static void do_statfs(struct fuse_server *fs, const struct fuse_in_header *h)
{
	struct fuse_statfs_out out = { .st = { .bsize = 4096, .namelen = 255, .frsize = 4096 } };

	fuse_chan_reply_data(&fs->chan, h->unique, &out, sizeof(out));
}

/* Whether @len bytes of argument follow the header. */
#define HAS_ARG(len, type) ((len) >= sizeof(type))

void fuse_server_request(struct fuse_server *fs, const struct fuse_in_header *h, const void *arg,
			 size_t len)
{
	uint32_t revents = 0;
	int err;

	fs->stats.requests++;
	switch (h->opcode) {
	case FUSE_INIT:
		if (HAS_ARG(len, struct fuse_init_in) ||
		    len >= offsetof(struct fuse_init_in, flags) + sizeof(uint32_t))
			do_init(fs, h, arg);
		return;
	case FUSE_DESTROY:
		fuse_chan_reply_error(&fs->chan, h->unique, 0);
		return;
	case FUSE_LOOKUP:
		if (len > 0 && ((const char *)arg)[len - 1] == '\0')
			do_lookup(fs, h, arg);
		else
			fuse_chan_reply_error(&fs->chan, h->unique, -EINVAL);
		return;
	case FUSE_FORGET:
		if (HAS_ARG(len, struct fuse_forget_in))
			node_forget(fs, h->nodeid, ((const struct fuse_forget_in *)arg)->nlookup);
		return; /* no answer */
	case FUSE_BATCH_FORGET: {
		const struct fuse_batch_forget_in *b = arg;
		const struct fuse_forget_one *one = (const void *)(b + 1);

		if (!HAS_ARG(len, *b) || (len - sizeof(*b)) / sizeof(*one) < b->count)
			return;
		for (uint32_t i = 0; i < b->count; i++)
			node_forget(fs, one[i].nodeid, one[i].nlookup);
		return;
	}
	case FUSE_GETATTR:
	case FUSE_SETATTR: /* nothing of a device inode changes: its attributes stay */
		if (h->nodeid != ROOT_ID && !node_find(fs, h->nodeid))
			fuse_chan_reply_error(&fs->chan, h->unique, -ENOENT);
		else
			reply_attr(fs, h->unique, h->nodeid);
		return;
	case FUSE_OPENDIR:
	case FUSE_RELEASEDIR: {
		struct fuse_open_out out = { 0 };

		fuse_chan_reply_data(&fs->chan, h->unique, &out,
				     h->opcode == FUSE_OPENDIR ? sizeof(out) : 0);
		return;
	}
	case FUSE_READDIR:
		if (HAS_ARG(len, struct fuse_read_in))
			do_readdir(fs, h, arg);
		return;
	case FUSE_OPEN:
		if (HAS_ARG(len, struct fuse_open_in))
			do_open(fs, h, arg);
		return;
	case FUSE_FLUSH:
		if (HAS_ARG(len, struct fuse_flush_in))
			fuse_files_flush(&fs->files, ((const struct fuse_flush_in *)arg)->fh);
		fuse_chan_reply_error(&fs->chan, h->unique, 0);
		return;
	case FUSE_RELEASE:
		if (HAS_ARG(len, struct fuse_release_in))
			fuse_files_release(&fs->files, ((const struct fuse_release_in *)arg)->fh);
		fuse_chan_reply_error(&fs->chan, h->unique, 0);
		return;
	case FUSE_READ:
		if (HAS_ARG(len, struct fuse_read_in))
			do_read(fs, h, arg);
		return;
	case FUSE_WRITE:
		fuse_chan_reply_error(&fs->chan, h->unique, -EINVAL); /* as the device's write */
		return;
	case FUSE_IOCTL: {
		const struct fuse_ioctl_in *in = arg;

		if (!HAS_ARG(len, *in)) {
			fuse_chan_reply_error(&fs->chan, h->unique, -EINVAL);
			return;
		}
		fuse_files_ioctl(&fs->files, h, in, in + 1, len - sizeof(*in));
		return;
	}
	case FUSE_POLL:
		if (!HAS_ARG(len, struct fuse_poll_in)) {
			fuse_chan_reply_error(&fs->chan, h->unique, -EINVAL);
			return;
		}
		err = fuse_files_poll(&fs->files, arg, &revents);
		if (err) {
			fuse_chan_reply_error(&fs->chan, h->unique, err);
		} else {
			struct fuse_poll_out out = { .revents = revents };

			fuse_chan_reply_data(&fs->chan, h->unique, &out, sizeof(out));
		}
		return;
	case FUSE_INTERRUPT:
		/* Unknown: already answered (the kernel then drops it), or answered later. */
		if (HAS_ARG(len, struct fuse_interrupt_in) &&
		    !fuse_files_interrupt(&fs->files,
					  ((const struct fuse_interrupt_in *)arg)->unique))
			fuse_chan_reply_error(&fs->chan, h->unique, -EAGAIN);
		return;
	case FUSE_STATFS:
		do_statfs(fs, h);
		return;
	case FUSE_ACCESS:
		fuse_chan_reply_error(&fs->chan, h->unique, 0);
		return;
	default:
		fs->stats.unsupported++;
		fuse_chan_reply_error(&fs->chan, h->unique, -ENOSYS);
		return;
	}
}

static void device_handle(struct loop_source *src, uint32_t events)
{
	struct fuse_server *fs =
		(struct fuse_server *)((char *)src - offsetof(struct fuse_server, src));

	(void)events;
	for (int i = 0; i < 64; i++) { /* others' events get their turn */
		ssize_t n = read(src->fd, fs->buf, fs->bufsize);
		const struct fuse_in_header *h = (const void *)fs->buf;

		if (n < 0 && (errno == EINTR || errno == ENOENT))
			continue; /* ENOENT: a request aborted before it was read */
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 || (size_t)n < sizeof(*h) || h->len != (uint32_t)n) {
			/* ENODEV: unmounted (or aborted through fusectl). */
			log_notice("fuse %s: the mount is gone (%s)", fs->dir,
				   n < 0 ? strerror(errno) : "short request");
			loop_unwatch(fs->loop, src);
			fs->gone = true;
			return;
		}
		fuse_server_request(fs, h, fs->buf + sizeof(*h), (size_t)n - sizeof(*h));
	}
}

/* The device number of the file system mounted last at @dir, from /proc/self/mountinfo. */
static dev_t mount_dev(const char *dir)
{
	char line[4096 + 256], point[4096];
	unsigned int maj, min;
	dev_t dev = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return 0;
	/* "ID PARENT MAJ:MIN ROOT POINT ...": octal escapes in POINT only for odd names. */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, point) == 3 &&
		    strcmp(point, dir) == 0)
			dev = makedev(maj, min);
	}
	fclose(f);
	return dev;
}

int fuse_server_init(struct fuse_server *fs, const struct fuse_server_config *cfg)
{
	char opts[256];

	memset(fs, 0, sizeof(*fs));
	fs->src.fd = fs->chan.fd = -1;
	fs->loop = cfg->loop;
	fs->file_size = cfg->max_region;
	fs->next_nodeid = FIRST_NODEID;
	/* As /proc/self/mountinfo will name it. */
	if (!realpath(cfg->dir, fs->dir) || cfg->nctx > FUSE_SERVER_MAX_CONTEXTS) {
		fprintf(stderr, "ubinderd: --fuse-dev %s: %s\n", cfg->dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < cfg->nctx; i++) {
		fs->ctxs[i].name = cfg->names[i];
		fs->ctxs[i].ctx = cfg->ctxs[i];
	}
	fs->nctx = cfg->nctx;
	fs->bufsize = MAX_WRITE + FUSE_MIN_BUF;
	fs->buf = malloc(fs->bufsize);
	fs->src.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (!fs->buf || fs->src.fd < 0) {
		fprintf(stderr, "ubinderd: --fuse-dev: /dev/fuse: %s\n", strerror(errno));
		return -1;
	}
	fs->chan.fd = fs->src.fd;
	fuse_files_init(&fs->files, cfg->loop, cfg->drv, cfg->copier, cfg->quotas, &fs->chan,
			cfg->max_body);
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40755,user_id=0,group_id=0,allow_other,max_read=%u", fs->src.fd,
		 MAX_WRITE);
	if (mount("ubinder", fs->dir, "fuse.ubinder", MS_NOSUID | MS_NODEV, opts) < 0) {
		fprintf(stderr, "ubinderd: --fuse-dev: mount %s: %s\n", fs->dir, strerror(errno));
		return -1;
	}
	fs->mounted = true;
	/* Not stat(): the mount answers nothing before the loop serves its INIT. */
	fs->files.dev = mount_dev(fs->dir);
	if (!fs->files.dev) {
		fprintf(stderr, "ubinderd: --fuse-dev: %s is not in /proc/self/mountinfo\n",
			fs->dir);
		return -1;
	}
	fs->src.handle = device_handle;
	if (loop_watch(cfg->loop, &fs->src, EPOLLIN) < 0) {
		fprintf(stderr, "ubinderd: --fuse-dev: %s\n", strerror(errno));
		return -1;
	}
	log_info("Binder devices in %s (FUSE)", fs->dir);
	return 0;
}

void fuse_server_stop(struct fuse_server *fs)
{
	if (fs->src.fd >= 0 && !fs->gone && fs->src.handle)
		loop_unwatch(fs->loop, &fs->src);
	fs->gone = true;
	if (fs->mounted && umount2(fs->dir, MNT_DETACH) < 0)
		log_warning("fuse: umount %s: %s", fs->dir, strerror(errno));
	fs->mounted = false;
	if (fs->files.loop)
		fuse_files_release_all(&fs->files);
}

void fuse_server_deinit(struct fuse_server *fs)
{
	struct fb_node *n, *tmp;

	if (fs->files.loop)
		fuse_files_deinit(&fs->files); /* calls the stopped copier left */
	HASH_ITER(hh, fs->nodes, n, tmp) {
		HASH_DEL(fs->nodes, n);
		free(n);
	}
	if (fs->src.fd >= 0)
		close(fs->src.fd);
	fs->src.fd = fs->chan.fd = -1;
	free(fs->buf);
	fs->buf = NULL;
}

void fuse_server_dump_stats(const struct fuse_server *fs, FILE *out)
{
	fprintf(out,
		"fuse %s: %" PRIu64 " requests, %" PRIu64 " lookups, %" PRIu64
		" forgets, %u inodes, %" PRIu64 " unsupported, %" PRIu64 " replies, %" PRIu64
		" lost\n",
		fs->dir, fs->stats.requests, fs->stats.lookups, fs->stats.forgets,
		HASH_COUNT(fs->nodes), fs->stats.unsupported,
		(uint64_t)atomic_load(&fs->chan.replies), (uint64_t)atomic_load(&fs->chan.lost));
	fuse_files_dump_stats(&fs->files, out);
}
