#include "domain/deletion_json.h"

namespace cmfd {

void WriteDeletion(JsonWriter& writer, const Deletion& deletion) {
  writer.StartObject();
  writer.Key("id");
  writer.Int(deletion.id);
  writer.Key("entityType");
  writer.String(deletion.entity_type);
  writer.Key("type");
  writer.String(deletion.type);
  writer.Key("creationDate");
  writer.Int(deletion.creation_date);
  writer.EndObject();
}

}  // namespace cmfd
