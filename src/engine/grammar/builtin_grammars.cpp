// Built-in JSON grammars. Contracts in builtin_grammars.h.
#include "engine/grammar/builtin_grammars.h"

namespace agora {

const std::string& json_primitives_gbnf() {
  // RFC 8259 values. Bounded whitespace: one space, or a newline and up to 20 blanks.
  static const std::string kText = R"gbnf(json-ws ::= ( " " | "\n" [ \t]{0,20} )?
json-value ::= json-object | json-array | json-string | json-number | json-boolean | json-null
json-object ::= "{" json-ws ( json-string json-ws ":" json-ws json-value json-ws ( "," json-ws json-string json-ws ":" json-ws json-value json-ws )* )? "}"
json-array ::= "[" json-ws ( json-value json-ws ( "," json-ws json-value json-ws )* )? "]"
json-string ::= "\"" json-char* "\""
json-char ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
json-integer ::= "-"? ( "0" | [1-9] [0-9]{0,15} )
json-number ::= json-integer ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?
json-boolean ::= "true" | "false"
json-null ::= "null"
)gbnf";
  return kText;
}

const std::string& json_object_gbnf() {
  static const std::string kText = "root ::= json-object\n" + json_primitives_gbnf();
  return kText;
}

const std::string& json_value_gbnf() {
  static const std::string kText = "root ::= json-value\n" + json_primitives_gbnf();
  return kText;
}

}  // namespace agora
