//go:build windows

package hyperv

import (
	"fmt"

	cim "github.com/microsoft/wmi/pkg/wmiinstance"
)

// Small helpers over the WMI library. They run on the COM thread only.

// queryAll runs a WQL query; the caller closes the instances.
func queryAll(s *cim.WmiSession, wql string) ([]*cim.WmiInstance, error) {
	insts, err := s.QueryInstances(wql)
	if err != nil {
		return nil, comErr("query "+wql, err)
	}
	return insts, nil
}

// queryFirst runs a WQL query and keeps the first instance (nil if none).
func queryFirst(s *cim.WmiSession, wql string) (*cim.WmiInstance, error) {
	insts, err := queryAll(s, wql)
	if err != nil || len(insts) == 0 {
		return nil, err
	}
	cim.CloseAllInstances(insts[1:])
	return insts[0], nil
}

// service returns the single instance of a service class.
func service(s *cim.WmiSession, class string) (*cim.WmiInstance, error) {
	inst, err := queryFirst(s, "SELECT * FROM "+class)
	if err == nil && inst == nil {
		err = fmt.Errorf("no %s instance: is the Hyper-V role installed?", class)
	}
	return inst, err
}

// associated lists the instances of resultClass associated with the
// object at path through assocClass.
func associated(s *cim.WmiSession, path, assocClass, resultClass string) ([]*cim.WmiInstance, error) {
	return queryAll(s, fmt.Sprintf("ASSOCIATORS OF {%s} WHERE AssocClass = %s ResultClass = %s", path, assocClass, resultClass))
}

// vmInstance finds a VM's Msvm_ComputerSystem by its GUID.
func vmInstance(s *cim.WmiSession, vmID string) (*cim.WmiInstance, error) {
	inst, err := queryFirst(s, "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine' AND Name = "+wqlQuote(vmID))
	if err == nil && inst == nil {
		err = fmt.Errorf("vm %s: %w", vmID, errNoSuchVM)
	}
	return inst, err
}

func prop(inst *cim.WmiInstance, name string) interface{} {
	v, err := inst.GetProperty(name)
	if err != nil {
		return nil
	}
	return v
}

func propString(inst *cim.WmiInstance, name string) string { return toString(prop(inst, name)) }
func propInt(inst *cim.WmiInstance, name string) int64     { return toInt64(prop(inst, name)) }
func propStrings(inst *cim.WmiInstance, name string) []string {
	return toStrings(prop(inst, name))
}

// param is one input parameter of a method call.
type param struct {
	name  string
	value interface{}
}

// exec calls a method with named inputs and reads the named outputs
// ("Job" must be among them for methods that have it).
func exec(inst *cim.WmiInstance, method string, in []param, outs ...string) (callResult, map[string]interface{}, error) {
	m, err := inst.GetWmiMethod(method)
	if err != nil {
		return callResult{}, nil, comErr(method, err)
	}
	var inParams, outParams cim.WmiMethodParamCollection
	for _, p := range in {
		inParams = append(inParams, cim.NewWmiMethodParam(p.name, p.value))
	}
	for _, o := range outs {
		outParams = append(outParams, cim.NewWmiMethodParam(o, nil))
	}
	res, err := m.Execute(inParams, outParams)
	if err != nil {
		return callResult{}, nil, comErr(method, err)
	}
	values := map[string]interface{}{}
	for name, p := range res.OutMethodParams {
		values[name] = p.Value
	}
	return callResult{Code: uint32(res.ReturnValue), Job: toString(values["Job"])}, values, nil
}

// embedded spawns an instance of class with the given properties and
// returns it as an embedded-instance string (CIM-XML DTD 2.0).
func embedded(s *cim.WmiSession, class string, props []param) (string, error) {
	cls, err := s.GetClass(class)
	if err != nil {
		return "", comErr("get class "+class, err)
	}
	defer cls.Close()
	inst, err := cls.MakeInstance()
	if err != nil {
		return "", comErr("spawn "+class, err)
	}
	defer inst.Close()
	for _, p := range props {
		if err := inst.SetProperty(p.name, p.value); err != nil {
			return "", comErr("set "+class+"."+p.name, err)
		}
	}
	text, err := inst.EmbeddedXMLInstance()
	return text, comErr("encode "+class, err)
}
