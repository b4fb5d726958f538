// SPDX-License-Identifier: MIT
// The gRPC baseline of bench/rpc.sh: a unary echo (echo.proto) served on
// ADDRESS, or called ITERATIONS times with PAYLOAD bytes, printing
// "median_us p99_us" after ITERATIONS / 5 warm-up calls.
//   bench-grpc-echo serve ADDRESS          (unix:PATH or HOST:PORT)
//   bench-grpc-echo call ADDRESS PAYLOAD ITERATIONS
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "echo.grpc.pb.h"

namespace {

class EchoService final : public ubinder::bench::Echo::Service {
	grpc::Status Echo(grpc::ServerContext *, const ubinder::bench::Payload *in,
			  ubinder::bench::Payload *out) override
	{
		out->set_data(in->data());
		return grpc::Status::OK;
	}
};

int serve(const std::string &address)
{
	EchoService service;
	grpc::ServerBuilder builder;

	builder.SetMaxReceiveMessageSize(4 << 20);
	builder.SetMaxSendMessageSize(4 << 20);
	builder.AddListeningPort(address, grpc::InsecureServerCredentials());
	builder.RegisterService(&service);
	std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
	if (!server) {
		std::fprintf(stderr, "bench-grpc-echo: cannot listen on %s\n", address.c_str());
		return 1;
	}
	std::fprintf(stderr, "bench-grpc-echo: serving on %s\n", address.c_str());
	server->Wait();
	return 0;
}

int call(const std::string &address, size_t size, int iterations)
{
	grpc::ChannelArguments args;
	args.SetMaxReceiveMessageSize(4 << 20);
	args.SetMaxSendMessageSize(4 << 20);
	auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
	auto stub = ubinder::bench::Echo::NewStub(channel);
	ubinder::bench::Payload in, out;
	std::vector<double> t;
	int warm = iterations / 5;

	in.set_data(std::string(size, '\xa5'));
	for (int i = 0; i < warm + iterations; i++) {
		grpc::ClientContext ctx;
		auto start = std::chrono::steady_clock::now();
		grpc::Status status = stub->Echo(&ctx, in, &out);
		double us = std::chrono::duration<double, std::micro>(
				    std::chrono::steady_clock::now() - start)
				    .count();
		if (!status.ok() || out.data().size() != size) {
			std::fprintf(stderr, "bench-grpc-echo: %s\n", status.error_message().c_str());
			return 1;
		}
		if (i >= warm)
			t.push_back(us);
	}
	std::sort(t.begin(), t.end());
	std::printf("%.1f %.1f\n", t[t.size() / 2], t[t.size() * 99 / 100]);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 3 && !std::strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 5 && !std::strcmp(argv[1], "call"))
		return call(argv[2], std::strtoul(argv[3], nullptr, 0), std::atoi(argv[4]));
	std::fprintf(stderr, "usage: bench-grpc-echo serve ADDRESS | call ADDRESS PAYLOAD ITERATIONS\n");
	return 2;
}
