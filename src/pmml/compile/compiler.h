// Compiles a parsed PMML document into a Plan. The passes run in this order (one place):
//   1. DataDictionary      -> Plan::fields (types, validity, interned values)
//   2. model element       -> find the single supported model, its function
//   3. MiningSchema        -> Plan::inputs (slots, treatments), target fields
//   4. Targets             -> Plan::targets
//   5. Transformations     -> derived fields, compiled on demand when referenced (cycle check)
//   6. model body          -> Plan::tree (flattened, predicates interned)
//   7. Output              -> Plan::outputs (result features, expressions)
//   8. interface           -> input/output FieldInfo, description
// Every error names the element path and source line. Unknown elements and attributes are
// refused; `Extension` elements and `x-` attributes are ignored.
#pragma once

#include <memory>

#include "fluxscore/pmml/model.h"
#include "pmml/plan/plan.h"
#include "pmml/xml/document.h"

namespace fluxscore::pmml {

Result<std::unique_ptr<Plan>> CompileDocument(const Document& doc, const LoadOptions& options);

}  // namespace fluxscore::pmml
