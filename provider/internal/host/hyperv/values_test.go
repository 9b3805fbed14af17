package hyperv

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseEmbeddedInstance_vhdSettings(t *testing.T) {
	text := `<INSTANCE CLASSNAME="Msvm_VirtualHardDiskSettingData">` +
		`<PROPERTY NAME="Path" TYPE="string"><VALUE>C:\vms\a_1.avhdx</VALUE></PROPERTY>` +
		`<PROPERTY NAME="ParentPath" TYPE="string"><VALUE>C:\vms\a.vhdx</VALUE></PROPERTY>` +
		`<PROPERTY NAME="Format" TYPE="uint16"><VALUE>3</VALUE></PROPERTY>` +
		`<PROPERTY NAME="Type" TYPE="uint16"><VALUE>4</VALUE></PROPERTY>` +
		`<PROPERTY NAME="MaxInternalSize" TYPE="uint64"><VALUE>137438953472</VALUE></PROPERTY>` +
		`<PROPERTY NAME="LogicalSectorSize" TYPE="uint32"><VALUE>4096</VALUE></PROPERTY>` +
		`<PROPERTY NAME="VirtualDiskId" TYPE="string"><VALUE>{1B2C3D4E-0000-1111-2222-333344445555}</VALUE></PROPERTY>` +
		`<PROPERTY NAME="Caption" TYPE="string"></PROPERTY>` +
		`<PROPERTY.ARRAY NAME="Unused" TYPE="string"><VALUE.ARRAY><VALUE>x</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>` +
		`</INSTANCE>`
	props, err := parseEmbeddedInstance(text, "Msvm_VirtualHardDiskSettingData")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := props["Caption"]; ok {
		t.Error("null property present")
	}
	got := vhdRecordFromProps(props)
	want := vhdRecord{Path: `C:\vms\a_1.avhdx`, ParentPath: `C:\vms\a.vhdx`, Format: formatVHDX, Type: 4,
		MaxInternalSize: 128 << 30, LogicalSectorSize: 4096, VirtualDiskID: "{1B2C3D4E-0000-1111-2222-333344445555}"}
	if got != want {
		t.Errorf("record = %+v, want %+v", got, want)
	}
}

func TestParseEmbeddedInstance_rejects(t *testing.T) {
	tests := []struct{ name, text string }{
		{"wrong class", `<INSTANCE CLASSNAME="Msvm_Other"></INSTANCE>`},
		{"not xml", `Msvm_VirtualHardDiskSettingData`},
		{"too big", `<INSTANCE CLASSNAME="Msvm_VirtualHardDiskSettingData">` + strings.Repeat(" ", maxEmbeddedInstance) + `</INSTANCE>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseEmbeddedInstance(tt.text, "Msvm_VirtualHardDiskSettingData"); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestValues_conversions(t *testing.T) {
	if n := toInt64("17179869184"); n != 16<<30 {
		t.Errorf("toInt64(string) = %d", n)
	}
	if n := toInt64(uint16(32768)); n != 32768 {
		t.Errorf("toInt64(uint16) = %d", n)
	}
	if n := toInt64(nil); n != 0 {
		t.Errorf("toInt64(nil) = %d", n)
	}
	if s := toStrings([]interface{}{`C:\a.vhdx`, nil}); !reflect.DeepEqual(s, []string{`C:\a.vhdx`, ""}) {
		t.Errorf("toStrings = %q", s)
	}
	if q := wqlQuote(`C:\it's`); q != `'C:\\it\'s'` {
		t.Errorf("wqlQuote = %s", q)
	}
	if tm := parseCIMTime("20261127151200.000000-000"); !tm.Equal(time.Date(2026, 11, 27, 15, 12, 0, 0, time.UTC)) {
		t.Errorf("parseCIMTime = %v", tm)
	}
	if tm := parseCIMTime("bad"); !tm.IsZero() {
		t.Errorf("parseCIMTime(bad) = %v", tm)
	}
}
