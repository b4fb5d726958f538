/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the cmocka tests. Tests only. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>

/* Sends @fd over the connected Unix socket @sock with SCM_RIGHTS. */
int test_send_fd(int sock, int fd);
/* Receives one descriptor from @sock; returns it or -1. */
int test_recv_fd(int sock);

/*
 * Runs @child in a forked process and returns its exit status (0..255), or
 * -1 if it was killed. The child is always reaped, and killed after
 * @timeout_ms milliseconds.
 */
int test_run_child(int (*child)(void *arg), void *arg, int timeout_ms);
