// Registration of every API route, one function per resource. Each handler
// file implements one of these; RegisterAllRoutes calls them all.
#pragma once

#include "http/router.h"

namespace cmfd {

void RegisterHealthRoutes(Router& router);
void RegisterCustomerRoutes(Router& router);
void RegisterActivityRoutes(Router& router);
void RegisterDeletionRoutes(Router& router);
void RegisterSegmentGroupRoutes(Router& router);
void RegisterSegmentRoutes(Router& router);
void RegisterSegmentsOfCustomersRoutes(Router& router);

inline void RegisterAllRoutes(Router& router) {
  RegisterHealthRoutes(router);
  RegisterCustomerRoutes(router);
  RegisterActivityRoutes(router);
  RegisterDeletionRoutes(router);
  RegisterSegmentGroupRoutes(router);
  RegisterSegmentRoutes(router);
  RegisterSegmentsOfCustomersRoutes(router);
}

}  // namespace cmfd
