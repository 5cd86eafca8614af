// cmfd_hello_baseline: the HTTP ceiling that the benchmark compares cmfd to.
//
// A RESTinio 0.6 server with the settings cmfd uses (one event-loop thread,
// pipelining allowed, TCP_NODELAY) that answers every GET with the same
// 400-byte JSON body and does nothing else: no routing, no database, no
// logging. bench/run.sh measures it in the same run as cmfd, so that each
// cmfd figure can be given as a share of what the HTTP library alone reaches
// on this machine.
//
// Usage: cmfd_hello_baseline [PORT] (default 18090; listens on 127.0.0.1).
// SIGINT stops it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <restinio/all.hpp>

namespace {

// A customer-shaped JSON document of exactly 400 bytes (checked in main()):
// the idEncoded value is padded to reach that size.
std::string MakeBody() {
  std::string body =
      R"({"timestamp":1733328000,"data":{"id":123,"active":true,"gender":"female",)"
      R"("firstname":"Anna","lastname":"Müller","birthdate":"1984-03-12","city":"London",)"
      R"("phone":"+44 207946012","countryCode":"GB","email":"anna.mueller.123@example.com",)"
      R"("idEncoded":")";
  const std::string tail =
      R"(","profilingConsent":false,"password":null,"modificationDate":1733328000,)"
      R"("creationDate":1733328000,"segments":[3,17]}})";
  if (body.size() + tail.size() < 400) body.append(400 - body.size() - tail.size(), 'x');
  body += tail;
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint16_t port = argc > 1 ? static_cast<std::uint16_t>(std::atoi(argv[1])) : 18090;
  const std::string body = MakeBody();
  if (body.size() != 400) {
    std::fprintf(stderr, "cmfd_hello_baseline: body is %zu bytes, expected 400\n", body.size());
    return 1;
  }

  // Pipelined requests beyond max_pipelined_requests make RESTinio close the
  // connection, so the limit is raised as in cmfd.
  restinio::run(
      restinio::on_thread_pool(1)
          .port(port)
          .address("127.0.0.1")
          .max_pipelined_requests(16)
          .socket_options_setter([](auto& options) {
            options.set_option(restinio::asio_ns::ip::tcp::no_delay{true});
          })
          .request_handler([&body](auto request) {
            if (request->header().method() != restinio::http_method_get()) {
              return restinio::request_rejected();
            }
            return request->create_response()
                .append_header(restinio::http_field::content_type, "application/json")
                .set_body(body)
                .done();
          }));
  return 0;
}
