package openapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// translator turns the JSON Schema library's error tree into the flat list of
// errors pydantic would report for the same value, dropping the problems that
// pydantic's lax mode coerces away.
type translator struct {
	spec   *document
	root   any
	prefix []any
	// At the root of an embedded body FastAPI reports a missing parameter with input null.
	embeddedRoot bool
}

func (t *translator) details(e *jsonschema.ValidationError) []Detail {
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		var out []Detail
		for _, c := range e.Causes {
			out = append(out, t.details(c)...)
		}
		return out
	case *kind.AnyOf:
		return t.union(e)
	case *kind.OneOf:
		if k.Subschemas != nil {
			return nil // several branches fit; pydantic picks one
		}
		return t.union(e)
	case *kind.Type:
		return t.wrongType(e, k)
	case *kind.Enum:
		return []Detail{t.choice(e, t.schemaAt(e.SchemaURL))}
	case *kind.Const:
		expected := pythonRepr(k.Want)
		return []Detail{t.detail(e, "literal_error", "Input should be "+expected, map[string]any{"expected": expected}, []string{display(k.Want)})}
	case *kind.Format:
		return t.badFormat(e, k)
	case *kind.AdditionalProperties:
		return t.extra(e, k)
	case *kind.Required:
		return t.missing(e, k)
	case *kind.UniqueItems:
		return nil // pydantic sets drop duplicates
	case *kind.Minimum:
		return t.bound(e, "minimum", "greater_than_equal", "greater than or equal to", "ge")
	case *kind.Maximum:
		return t.bound(e, "maximum", "less_than_equal", "less than or equal to", "le")
	case *kind.ExclusiveMinimum:
		return t.bound(e, "exclusiveMinimum", "greater_than", "greater than", "gt")
	case *kind.ExclusiveMaximum:
		return t.bound(e, "exclusiveMaximum", "less_than", "less than", "lt")
	case *kind.MinLength:
		return []Detail{t.detail(e, "string_too_short", fmt.Sprintf("String should have at least %s", plural(k.Want, "character")), map[string]any{"min_length": k.Want}, nil)}
	case *kind.MaxLength:
		return []Detail{t.detail(e, "string_too_long", fmt.Sprintf("String should have at most %s", plural(k.Want, "character")), map[string]any{"max_length": k.Want}, nil)}
	case *kind.MinItems:
		return []Detail{t.detail(e, "too_short", fmt.Sprintf("List should have at least %s after validation, not %d", plural(k.Want, "item"), k.Got),
			map[string]any{"field_type": "List", "min_length": k.Want, "actual_length": k.Got}, nil)}
	case *kind.MaxItems:
		return []Detail{t.detail(e, "too_long", fmt.Sprintf("List should have at most %s after validation, not %d", plural(k.Want, "item"), k.Got),
			map[string]any{"field_type": "List", "max_length": k.Want, "actual_length": k.Got}, nil)}
	case *kind.Pattern:
		return []Detail{t.detail(e, "string_pattern_mismatch", fmt.Sprintf("String should match pattern '%s'", k.Want), map[string]any{"pattern": k.Want}, nil)}
	}
	msg := e.ErrorKind.LocalizedString(message.NewPrinter(language.English))
	return []Detail{t.detail(e, "value_error", "Value error, "+msg, nil, nil)}
}

// union follows pydantic for anyOf: a null branch only means "nullable"; if any
// branch's problems are all coercible the value passes; otherwise report the
// branches whose type fits the value, or all of them when none does.
func (t *translator) union(e *jsonschema.ValidationError) []Detail {
	var fitting, all []Detail
	for _, c := range e.Causes {
		if isNullBranch(c) {
			continue
		}
		branch := t.details(c)
		if len(branch) == 0 {
			return nil
		}
		all = append(all, branch...)
		if !typeMismatch(c, e.InstanceLocation) {
			fitting = append(fitting, branch...)
		}
	}
	if len(fitting) > 0 {
		return fitting
	}
	return all
}

func isNullBranch(e *jsonschema.ValidationError) bool {
	k, ok := e.ErrorKind.(*kind.Type)
	return ok && len(k.Want) == 1 && k.Want[0] == "null"
}

// typeMismatch reports whether a branch failed because the value at loc has the wrong JSON type.
func typeMismatch(e *jsonschema.ValidationError, loc []string) bool {
	switch e.ErrorKind.(type) {
	case *kind.Type:
		return slices.Equal(e.InstanceLocation, loc)
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, c := range e.Causes {
			if typeMismatch(c, loc) {
				return true
			}
		}
	}
	return false
}

func (t *translator) wrongType(e *jsonschema.ValidationError, k *kind.Type) []Detail {
	schema := t.schemaAt(e.SchemaURL)
	if _, ok := schema["enum"]; ok {
		return []Detail{t.choice(e, schema)}
	}
	input := t.valueAt(e.InstanceLocation)
	want := k.Want[0]
	for _, w := range k.Want {
		if w != "null" {
			want = w
			break
		}
	}
	format, _ := schema["format"].(string)
	str, isString := input.(string)
	num, isNumber := number(input)
	_, isBool := input.(bool)
	one := func(typ, msg string, ctx map[string]any) []Detail {
		return []Detail{t.detail(e, typ, msg, ctx, nil)}
	}
	switch {
	case want == "string" && format == "date-time":
		if isNumber {
			return nil // a unix timestamp
		}
		return one("datetime_type", "Input should be a valid datetime", nil)
	case want == "string" && format == "duration":
		if isNumber {
			return nil // seconds
		}
		return one("time_delta_type", "Input should be a valid timedelta", nil)
	case want == "string" && format == "uuid":
		return one("uuid_type", "UUID input should be a string, bytes or UUID object", nil)
	case want == "string":
		return one("string_type", "Input should be a valid string", nil)
	case want == "integer":
		switch {
		case isBool, isString && laxInt(str):
			return nil
		case isString:
			return one("int_parsing", "Input should be a valid integer, unable to parse string as an integer", nil)
		case isNumber:
			return one("int_from_float", "Input should be a valid integer, got a number with a fractional part", nil)
		}
		return one("int_type", "Input should be a valid integer", nil)
	case want == "number":
		switch {
		case isBool, isString && laxFloat(str):
			return nil
		case isString:
			return one("float_parsing", "Input should be a valid number, unable to parse string as a number", nil)
		}
		return one("float_type", "Input should be a valid number", nil)
	case want == "boolean":
		switch {
		case isString && laxBool(str), isNumber && (num == 0 || num == 1):
			return nil
		case isString, isNumber:
			return one("bool_parsing", "Input should be a valid boolean, unable to interpret input", nil)
		}
		return one("bool_type", "Input should be a valid boolean", nil)
	case want == "array":
		return one("list_type", "Input should be a valid list", nil)
	case want == "object":
		if _, isModel := schema["properties"]; isModel {
			title, _ := schema["title"].(string)
			return one("model_type", "Input should be a valid dictionary or instance of "+title, map[string]any{"class_name": title})
		}
		return one("dict_type", "Input should be a valid dictionary", nil)
	case want == "null":
		return one("none_required", "Input should be None", nil)
	}
	return one("value_error", "Value error, "+k.LocalizedString(message.NewPrinter(language.English)), nil)
}

// choice reports a value outside an enum: "enum" for a named Enum component,
// "literal_error" for an inline Literal.
func (t *translator) choice(e *jsonschema.ValidationError, schema map[string]any) Detail {
	values, _ := schema["enum"].([]any)
	reprs := make([]string, len(values))
	allowed := make([]string, len(values))
	for i, v := range values {
		reprs[i] = pythonRepr(v)
		allowed[i] = display(v)
	}
	expected := joinOr(reprs)
	typ := "literal_error"
	if isComponentRoot(e.SchemaURL) {
		typ = "enum"
	}
	return t.detail(e, typ, "Input should be "+expected, map[string]any{"expected": expected}, allowed)
}

func (t *translator) badFormat(e *jsonschema.ValidationError, k *kind.Format) []Detail {
	reason := "invalid value"
	if k.Err != nil {
		reason = k.Err.Error()
	}
	ctx := map[string]any{"error": reason}
	switch k.Want {
	case "uuid":
		return []Detail{t.detail(e, "uuid_parsing", "Input should be a valid UUID, "+reason, ctx, nil)}
	case "date-time":
		return []Detail{t.detail(e, "datetime_from_date_parsing", "Input should be a valid datetime or date, "+reason, ctx, nil)}
	case "duration":
		return []Detail{t.detail(e, "time_delta_parsing", "Input should be a valid timedelta, "+reason, ctx, nil)}
	}
	return []Detail{t.detail(e, "value_error", "Value error, "+reason, nil, nil)}
}

func (t *translator) extra(e *jsonschema.ValidationError, k *kind.AdditionalProperties) []Detail {
	schema := t.schemaAt(e.SchemaURL)
	props, _ := schema["properties"].(map[string]any)
	allowed := make([]string, 0, len(props))
	for p := range props {
		allowed = append(allowed, p)
	}
	slices.Sort(allowed)
	obj, _ := t.valueAt(e.InstanceLocation).(map[string]any)
	out := make([]Detail, 0, len(k.Properties))
	for _, p := range k.Properties {
		out = append(out, Detail{
			Type:    "extra_forbidden",
			Loc:     append(t.loc(e.InstanceLocation), p),
			Msg:     "Extra inputs are not permitted",
			Input:   obj[p],
			allowed: allowed,
		})
	}
	return out
}

func (t *translator) missing(e *jsonschema.ValidationError, k *kind.Required) []Detail {
	input := t.valueAt(e.InstanceLocation)
	if t.embeddedRoot && len(e.InstanceLocation) == 0 {
		input = nil
	}
	out := make([]Detail, 0, len(k.Missing))
	for _, p := range k.Missing {
		out = append(out, Detail{Type: "missing", Loc: append(t.loc(e.InstanceLocation), p), Msg: "Field required", Input: input})
	}
	return out
}

func (t *translator) bound(e *jsonschema.ValidationError, keyword, typ, phrase, ctxKey string) []Detail {
	schema := t.schemaAt(e.SchemaURL)
	limit := schema[keyword]
	// The document spells integer bounds as floats ("minimum": 0.0); pydantic
	// holds them as ints for integer fields and prints them so.
	if f, ok := number(limit); ok && schema["type"] == "integer" && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		limit = json.Number(strconv.FormatInt(int64(f), 10))
	}
	text := fmt.Sprint(limit)
	return []Detail{t.detail(e, typ, "Input should be "+phrase+" "+text, map[string]any{ctxKey: limit}, nil)}
}

func (t *translator) detail(e *jsonschema.ValidationError, typ, msg string, ctx map[string]any, allowed []string) Detail {
	return Detail{
		Type:    typ,
		Loc:     t.loc(e.InstanceLocation),
		Msg:     msg,
		Input:   t.valueAt(e.InstanceLocation),
		Ctx:     ctx,
		allowed: allowed,
	}
}

// loc prefixes an instance location, turning array indices into ints.
func (t *translator) loc(tokens []string) []any {
	loc := make([]any, 0, len(t.prefix)+len(tokens))
	loc = append(loc, t.prefix...)
	v := t.root
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err == nil && i >= 0 && i < len(x) {
				loc = append(loc, i)
				v = x[i]
				continue
			}
			v = nil
		case map[string]any:
			v = x[tok]
		default:
			v = nil
		}
		loc = append(loc, tok)
	}
	return loc
}

func (t *translator) valueAt(tokens []string) any {
	v := t.root
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		case map[string]any:
			v = x[tok]
		default:
			return nil
		}
	}
	return v
}

// schemaAt returns the raw schema object a library error points at, or nil.
func (t *translator) schemaAt(schemaURL string) map[string]any {
	resource, frag, _ := strings.Cut(schemaURL, "#")
	v, ok := t.spec.resources.Load(resource)
	if !ok {
		return nil
	}
	ptr, err := url.PathUnescape(frag)
	if err != nil {
		return nil
	}
	if ptr != "" {
		for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch x := v.(type) {
			case map[string]any:
				v = x[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(x) {
					return nil
				}
				v = x[i]
			default:
				return nil
			}
		}
	}
	m, _ := v.(map[string]any)
	return m
}

// isComponentRoot reports an error raised by a component's own root schema.
func isComponentRoot(schemaURL string) bool {
	resource, frag, _ := strings.Cut(schemaURL, "#")
	return strings.HasPrefix(resource, componentURLPrefix) && frag == ""
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// pythonRepr renders a JSON value as pydantic quotes it in messages.
func pythonRepr(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + x + "'"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	return fmt.Sprint(v)
}

func display(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// joinOr renders "'a', 'b' or 'c'" like pydantic's expected-values lists.
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
