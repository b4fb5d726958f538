/* SPDX-License-Identifier: MIT */
/* ubinderd's command line and defaults. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DAEMON_MAX_CONTEXTS 8

struct daemon_config {
	char socket_dir[108];			   /* where context sockets live */
	char socket_path[108];			   /* --socket: first context's socket, or "" */
	const char *contexts[DAEMON_MAX_CONTEXTS]; /* names; default: "binder" */
	size_t ncontexts;
	size_t max_region;	    /* bytes; default 4 MiB, as the kernel caps it */
	size_t max_lru_pages;	    /* 0: no budget */
	size_t max_installed_pages; /* all regions; 0: no cap */
	unsigned int lru_decay_s;   /* 0: no decay */
	size_t huge_pages;	    /* --huge-pages: bytes, SIZE_MAX auto, 0 off */
	unsigned int max_threads;
	unsigned int max_inline;
	unsigned int copy_workers;    /* most copy worker threads */
	unsigned int copies_per_proc; /* copies from one process's memory at once */
	unsigned int copies_per_uid;  /* the same for all the processes of one uid */
	unsigned int copy_timeout_ms; /* when a copy counts as stalled, a queued one fails */
	/* Per-uid quotas (0: none). */
	unsigned int max_sessions_per_uid;
	unsigned int max_threads_per_uid;
	unsigned int max_nodes_per_uid;
	unsigned int max_refs_per_uid;
	unsigned int max_deaths_per_uid;
	size_t max_oneway_per_uid; /* bytes of unfreed oneway buffers a uid has sent */
	/* Unfinished multi-packet requests: budgets and deadline. */
	size_t max_partial_per_proc;
	size_t max_partial_per_uid;
	unsigned int partial_timeout_ms;
	unsigned int spin_us; /* --spin: how long the loop may spin for a ring's request */
	int log_level;
	bool freeze_any_uid; /* --freeze-policy any */
	bool dumpable;	     /* --dumpable: for debugging only */
	bool rings;	     /* --rings on (default): thread connections may use rings */
	bool wake_batch;     /* --wake-batch on (default): futex wakes through io_uring */
	char fuse_dir[256];  /* --fuse-dev: the FUSE mount of the devices, or "" */
};

/*
 * Parses argv into @cfg. Returns 0 to run, 1 when --help or --version was
 * printed (exit 0), -1 on a usage error (printed; exit 2).
 */
int config_parse(struct daemon_config *cfg, int argc, char **argv);

/* The socket path of context @index into @buf. */
void config_socket_path(const struct daemon_config *cfg, size_t index, char *buf, size_t size);
