// /customers and /customers/{id}.
#include <string>
#include <utility>
#include <vector>

#include "domain/customer_json.h"
#include "domain/json_writer.h"
#include "domain/validation.h"
#include "handlers/common.h"
#include "handlers/handlers.h"

namespace cmfd {

namespace {

constexpr std::string_view kEntity = "Customer";

// A customer's JSON without activities is about 500 bytes.
constexpr std::size_t kCustomerBytes = 640;

// {"timestamp": T, "data": {customer}} with the given status.
Response CustomerResponse(int status, const Customer& customer, const CustomerSchema& schema) {
  std::string body;
  body.reserve(kCustomerBytes);
  JsonWriter writer(body);
  StartItemBody(writer, CurrentUnixTime());
  WriteCustomer(writer, customer, schema);
  writer.EndObject();
  return JsonResponse(status, std::move(body));
}

Response ListCustomers(const Request& request, HandlerContext& context) {
  const CustomerSchema& schema = context.config.customer;
  Status problems;
  CustomerQuery query;
  query.page = ParsePaging(request.query, context.config, problems);
  query.modified_after = ParseTimestampParam(request.query, "modificationTimestamp", problems);
  query.include_activities = ParseFlagParam(request.query, "includeActivities", problems);

  for (const std::string_view item : ListParam(request.query, "segments", problems)) {
    const auto id = ParseUnsignedInt64(item);
    if (!id || *id <= 0) {
      problems.Add(Code::kInvalid,
                   "segments: invalid value " + QuoteParamForMessage(item) +
                       ", must be a comma-separated list of segment ids (positive integers)");
      continue;
    }
    query.segments_all.push_back(*id);
  }

  if (const auto email = ParseTextParam(request.query, "email", problems)) {
    query.email = std::string(*email);
  }

  // Every unique extra field is an exact-match filter under its own name.
  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    if (!schema.fields[i].unique) continue;
    const auto text = ParseTextParam(request.query, schema.fields[i].name, problems);
    if (!text) continue;
    Result<std::string> literal = ParseExtraFieldFilter(schema.fields[i], *text);
    if (!literal.ok()) {
      AddProblems(problems, literal.status());
      continue;
    }
    query.extra_equals.emplace_back(i, std::move(literal.value()));
  }
  if (!problems.ok()) return ErrorResponse(problems);

  std::string data;
  JsonWriter writer(data);
  writer.StartArray();
  Result<ListInfo> info = context.store.ListCustomers(
      query, [&](const Customer& customer) { WriteCustomer(writer, customer, schema); });
  writer.EndArray();
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(200, ListBody(query.page, info.value(), data));
}

Response GetCustomer(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));

  Status problems;
  const bool include_activities = ParseFlagParam(request.query, "includeActivities", problems);
  if (!problems.ok()) {
    return InvalidOnExistingId(problems, context.store.GetCustomer(*id, false).status(), kEntity,
                               segment);
  }

  Result<Customer> customer = context.store.GetCustomer(*id, include_activities);
  if (!customer.ok()) return StoreErrorOnId(customer.status(), kEntity, segment);
  return CustomerResponse(200, customer.value(), context.config.customer);
}

Response CreateCustomer(const Request& request, HandlerContext& context) {
  const CustomerSchema& schema = context.config.customer;
  Status problems;
  const bool include_activities = ParseFlagParam(request.query, "includeActivities", problems);
  Result<CustomerPatch> patch = ParseCustomerPatch(request.body, schema);
  AddProblems(problems, patch.status());
  if (!problems.ok()) return ErrorResponse(problems);

  Customer customer = NewCustomer(schema);
  ApplyCustomerPatch(patch.value(), customer);
  Status required = CheckRequiredFields(customer, schema);
  if (!required.ok()) return ErrorResponse(required);

  Result<Customer> created = context.store.CreateCustomer(customer);
  if (!created.ok()) return ErrorResponse(created.status());
  // A new customer has no activities yet.
  if (include_activities) created->activities = std::vector<Activity>();
  return CustomerResponse(201, created.value(), schema);
}

Response UpdateCustomer(const Request& request, HandlerContext& context) {
  const CustomerSchema& schema = context.config.customer;
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));

  Status problems;
  const bool include_activities = ParseFlagParam(request.query, "includeActivities", problems);
  Result<CustomerPatch> patch = ParseCustomerPatch(request.body, schema);
  AddProblems(problems, patch.status());
  if (!problems.ok()) {
    return InvalidOnExistingId(problems, context.store.GetCustomer(*id, false).status(), kEntity,
                               segment);
  }

  Result<Customer> updated =
      context.store.UpdateCustomer(*id, [&](Customer& customer) {
        ApplyCustomerPatch(patch.value(), customer);
        return CheckRequiredFields(customer, schema);
      });
  if (!updated.ok()) return StoreErrorOnId(updated.status(), kEntity, segment);

  if (include_activities) {
    // The update does not load activities; a second read does. It may see a
    // write that landed in between, which a read right after would see too.
    Result<Customer> reread = context.store.GetCustomer(*id, true);
    if (!reread.ok()) return StoreErrorOnId(reread.status(), kEntity, segment);
    return CustomerResponse(200, reread.value(), schema);
  }
  return CustomerResponse(200, updated.value(), schema);
}

Response DeleteCustomer(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));
  const Status deleted = context.store.DeleteCustomer(*id);
  if (!deleted.ok()) return StoreErrorOnId(deleted, kEntity, segment);
  return NoContent();
}

}  // namespace

void RegisterCustomerRoutes(Router& router) {
  router.Add("GET", "/customers", Access::kRead, ListCustomers);
  router.Add("POST", "/customers", Access::kWrite, CreateCustomer);
  router.Add("PUT", "/customers", Access::kWrite, CreateCustomer);

  router.Add("GET", "/customers/{id}", Access::kRead, GetCustomer);
  router.Add("PATCH", "/customers/{id}", Access::kWrite, UpdateCustomer);
  router.Add("PUT", "/customers/{id}", Access::kWrite, UpdateCustomer);
  router.Add("POST", "/customers/{id}", Access::kWrite, UpdateCustomer);
  router.Add("DELETE", "/customers/{id}", Access::kWrite, DeleteCustomer);
}

}  // namespace cmfd
