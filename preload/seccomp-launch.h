/* SPDX-License-Identifier: MIT */
/*
 * The seccomp launcher behind `ubinder-run --seccomp` (docs/emulation.md,
 * "SECCOMP"): runs a program of any kind (static, Go, musl, bionic) with its
 * Binder system calls served by ubinderd, with no library in the program.
 *
 * It forks; the child sets NO_NEW_PRIVS and PR_SET_PDEATHSIG, installs a
 * filter that traps opens, Binder ioctls, file-backed mmaps, closes, exits
 * and execs (and kills foreign system call ABIs, which would bypass it), and passes the filter's
 * listener to the launcher, which hands it to the daemon (UBW_SECCOMP); then
 * the child execs the program. The launcher stays as the program's
 * supervisor: it forwards terminating signals, returns the program's exit
 * status, and kills every process under it if the daemon dies, so that none
 * is left with system calls nobody serves.
 */
#pragma once

/* Runs argv[0] with @argv; returns the exit status for ubinder-run. */
int seccomp_launch(char **argv);
