// Deletion records as JSON.
#pragma once

#include "domain/json_writer.h"
#include "domain/model.h"

namespace cmfd {

// Writes {"id", "entityType", "type", "creationDate"}; type is "" for
// customers and the activity type for activities.
void WriteDeletion(JsonWriter& writer, const Deletion& deletion);

}  // namespace cmfd
