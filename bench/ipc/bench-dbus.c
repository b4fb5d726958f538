/* SPDX-License-Identifier: MIT */
/*
 * bench-dbus: the round trip of a D-Bus method call through dbus-daemon with
 * sd-bus, the comparison bench/ipc.sh puts beside ubinder. A forked server
 * owns a name and echoes a byte array; the client calls it and times each
 * call. Prints "dbus PAYLOAD median_ns p99_ns" like bench-ipc.
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "bench-common.h"

#define NAME		"org.ubinder.Bench"
#define PATH		"/org/ubinder/Bench"
#define CALL_TIMEOUT_US (30ull * 1000000ull)

static void check(int r, const char *what)
{
	if (r < 0) {
		errno = -r;
		die(what);
	}
}

static sd_bus *connect_bus(const char *address)
{
	sd_bus *bus = NULL;

	check(sd_bus_new(&bus), "sd_bus_new");
	check(sd_bus_set_address(bus, address), "sd_bus_set_address");
	check(sd_bus_set_bus_client(bus, 1), "sd_bus_set_bus_client");
	check(sd_bus_start(bus), "connect to the bus");
	return bus;
}

static int echo(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	sd_bus_message *reply = NULL;
	const void *data;
	size_t size;
	int r;

	(void)userdata;
	(void)error;
	r = sd_bus_message_read_array(m, 'y', &data, &size);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', data, size);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 1;
}

static const sd_bus_vtable vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Echo", "ay", "ay", echo, 0),
	SD_BUS_VTABLE_END,
};

static _Noreturn void serve(const char *address, int ready)
{
	sd_bus *bus = connect_bus(address);

	check(sd_bus_add_object_vtable(bus, NULL, PATH, NAME, vtable, NULL), "add object");
	check(sd_bus_request_name(bus, NAME, 0), "request name");
	if (write(ready, "", 1) != 1)
		die("signal readiness");
	close(ready);
	for (;;) {
		int r = sd_bus_process(bus, NULL);

		check(r, "sd_bus_process");
		if (r == 0)
			check(sd_bus_wait(bus, UINT64_MAX), "sd_bus_wait");
	}
}

static uint64_t call(sd_bus *bus, const uint8_t *payload, size_t size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	const void *data;
	size_t got;
	uint64_t t0 = now_ns();

	check(sd_bus_message_new_method_call(bus, &m, NAME, PATH, NAME, "Echo"), "new call");
	check(sd_bus_message_append_array(m, 'y', payload, size), "append payload");
	if (sd_bus_call(bus, m, CALL_TIMEOUT_US, &error, &reply) < 0) {
		fprintf(stderr, "bench-dbus: call failed: %s\n",
			error.message ? error.message : "?");
		exit(1);
	}
	check(sd_bus_message_read_array(reply, 'y', &data, &got), "read reply");
	if (got != size) {
		fprintf(stderr, "bench-dbus: reply of %zu bytes, expected %zu\n", got, size);
		exit(1);
	}
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	size_t payload, iterations;
	uint64_t *samples;
	uint8_t *buf;
	int ready[2];
	char c;
	pid_t pid;
	sd_bus *bus;

	bool help = argc > 1 && strcmp(argv[1], "--help") == 0;

	if (argc != 4 || help) {
		fprintf(help ? stdout : stderr,
			"usage: bench-dbus ADDRESS PAYLOAD ITERATIONS\n"
			"Calls a method echoing PAYLOAD bytes through the D-Bus daemon at\n"
			"ADDRESS (sd-bus on both sides) and prints \"dbus PAYLOAD median_ns\n"
			"p99_ns\" after %d warm-up calls.\n",
			WARMUP);
		return help ? 0 : 2;
	}
	payload = strtoull(argv[2], NULL, 0);
	iterations = strtoull(argv[3], NULL, 0);
	if (iterations == 0)
		return 2;
	samples = calloc(iterations, sizeof(*samples));
	buf = calloc(1, payload ? payload : 1);
	if (!samples || !buf)
		die("calloc");
	if (pipe(ready) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ready[0]);
		serve(argv[1], ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "bench-dbus: the server did not start\n");
		return 1;
	}
	bus = connect_bus(argv[1]);
	for (size_t i = 0; i < WARMUP + iterations; i++) {
		uint64_t t = call(bus, buf, payload);

		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	sd_bus_flush_close_unref(bus);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	report("dbus", payload, samples, iterations);
	free(samples);
	free(buf);
	return 0;
}
