package hyperv

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Conversions of the values WMI's scripting interface hands back. Through
// that interface 64-bit integers arrive as strings, smaller ones as any
// integer type, and arrays as []interface{}.

// toInt64 converts a WMI property value to an integer; nil and
// unparsable values give 0.
func toInt64(v interface{}) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n
	}
	return 0
}

// toString converts a WMI property value to a string; nil gives "".
func toString(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// toStrings converts a WMI array value to strings.
func toStrings(v interface{}) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []interface{}:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, toString(e))
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

// wqlQuote quotes a string for a WQL literal.
func wqlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// parseCIMTime reads the first 14 digits (yyyymmddhhmmss, UTC offset
// ignored) of a CIM datetime; zero time if it does not parse.
func parseCIMTime(s string) time.Time {
	if len(s) < 14 {
		return time.Time{}
	}
	t, err := time.Parse("20060102150405", s[:14])
	if err != nil {
		return time.Time{}
	}
	return t
}

// maxEmbeddedInstance bounds the embedded instances the backend parses.
const maxEmbeddedInstance = 1 << 20

// cimInstanceXML is the part of a CIM-XML (DTD 2.0) INSTANCE the backend
// reads.
type cimInstanceXML struct {
	ClassName string `xml:"CLASSNAME,attr"`
	Props     []struct {
		Name  string  `xml:"NAME,attr"`
		Value *string `xml:"VALUE"`
	} `xml:"PROPERTY"`
	Arrays []struct {
		Name   string   `xml:"NAME,attr"`
		Values []string `xml:"VALUE.ARRAY>VALUE"`
	} `xml:"PROPERTY.ARRAY"`
}

// parseEmbeddedInstance reads the scalar properties of an embedded
// instance; null properties are left out.
func parseEmbeddedInstance(text, wantClass string) (map[string]string, error) {
	if len(text) > maxEmbeddedInstance {
		return nil, fmt.Errorf("embedded %s instance: %d bytes, limit %d", wantClass, len(text), maxEmbeddedInstance)
	}
	var inst cimInstanceXML
	if err := xml.Unmarshal([]byte(text), &inst); err != nil {
		return nil, fmt.Errorf("embedded %s instance: %w", wantClass, err)
	}
	if !strings.EqualFold(inst.ClassName, wantClass) {
		return nil, fmt.Errorf("embedded instance: class %q, want %q", inst.ClassName, wantClass)
	}
	props := map[string]string{}
	for _, p := range inst.Props {
		if p.Value != nil {
			props[p.Name] = *p.Value
		}
	}
	return props, nil
}

// vhdRecordFromProps maps Msvm_VirtualHardDiskSettingData properties.
func vhdRecordFromProps(p map[string]string) vhdRecord {
	return vhdRecord{
		Path:              p["Path"],
		ParentPath:        p["ParentPath"],
		Format:            uint16(toInt64(p["Format"])),
		Type:              uint16(toInt64(p["Type"])),
		MaxInternalSize:   toInt64(p["MaxInternalSize"]),
		LogicalSectorSize: int(toInt64(p["LogicalSectorSize"])),
		VirtualDiskID:     p["VirtualDiskId"],
	}
}
