/* SPDX-License-Identifier: MIT */
/*
 * Between the wire and the driver core: the session and thread roles of
 * connections. Every request a client sends after UBW_HELLO or UBW_ATTACH
 * is checked here (sizes, sequence) and turned into a driver call; the
 * driver's completions (struct driver_ops) are encoded into replies here.
 *
 * Owns: the decoding of requests into driver calls and the encoding of
 * replies, fetch jobs on copy workers.
 * May call: assembly, session, conn, copier, driver, wire, common/log.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/assembly.h"
#include "daemon/conn.h"
#include "daemon/copier.h"
#include "daemon/session.h"
#include "driver/driver.h"
#include "wire/wire.h"

struct glue {
	struct sessions *sessions;
	struct driver *drv;
	struct copier *copier;
	struct assemblies *assemblies;
	struct conn_hub *hub;	  /* its rings' lazy reads are taken before each driver operation */
	uint64_t foreign_refused; /* requests from a process other than the opener */
	/* The local completion: claimed ticket writes run as promised, those
	 * whose outcome was not the promised one (a daemon bug: always 0), and
	 * claims refused (the write was not the plain reply promised). */
	uint64_t local_completions, local_completions_broken, ticket_writes_refused;
	struct conn_role session_role; /* opened by UBW_HELLO */
	struct conn_role thread_role;  /* opened by UBW_ATTACH */
};

/* The driver's callbacks; the driver's opaque daemon pointer is the struct glue. */
extern const struct driver_ops glue_driver_ops;

/* Lines for the stats dump. */
void glue_dump_stats(const struct glue *g, FILE *out);

/*
 * The local completion: promises and publishes the tickets threads asked
 * for (UBW_WR_OFFER) whose reads ended since. Called when the loop has
 * settled, so that nothing the driver does between the promise and the
 * ticket's close comes after the ticket is offered.
 */
void glue_make_offers(struct glue *g);

void glue_init(struct glue *g, struct sessions *sessions, struct assemblies *assemblies,
	       struct driver *drv, struct copier *copier, struct conn_hub *hub);
