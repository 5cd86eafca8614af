#include "domain/json_writer.h"

#include <string>

namespace cmfd {

void JsonWriter::Raw(RawValue value) {
  // RapidJSON uses the type only to assert that an object key is a string;
  // in a value position any type passes.
  writer_.RawValue(value.json.data(), value.json.size(), rapidjson::kObjectType);
}

void JsonWriter::SelfLinks(std::string_view resource, std::int64_t id) {
  std::string href = "/webservice/cmf/";
  href.append(resource);
  href.push_back('/');
  href.append(std::to_string(id));

  StartArray();
  StartObject();
  Key("rel");
  String("self");
  Key("href");
  String(href);
  Key("method");
  String("GET");
  EndObject();
  EndArray();
}

}  // namespace cmfd
