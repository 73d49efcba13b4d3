package config

import (
	"strings"
	"testing"
)

func TestRevealLimitsDefaultsAndSettings(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Reveal != (RevealConfig{PerMinute: 5, PerDay: 100}) {
		t.Fatalf("reveal defaults = %+v, want 5 a minute and 100 a day", cfg.Reveal)
	}
	cfg, err = Load(envFrom(map[string]string{revealPerMinuteEnv: " 3 ", revealPerDayEnv: "3"}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Reveal != (RevealConfig{PerMinute: 3, PerDay: 3}) {
		t.Fatalf("reveal settings = %+v, want 3 and 3", cfg.Reveal)
	}
}

func TestRevealLimitsRefuseHostileValuesNamingTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{revealPerMinuteEnv: "0"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "-5"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "five"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "5.5"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "1e3"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "0x10"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "61"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "99999999999999999999"}, revealPerMinuteEnv},
		{map[string]string{revealPerMinuteEnv: "5\n6"}, revealPerMinuteEnv},
		{map[string]string{revealPerDayEnv: "0"}, revealPerDayEnv},
		{map[string]string{revealPerDayEnv: "unlimited"}, revealPerDayEnv},
		{map[string]string{revealPerDayEnv: "10001"}, revealPerDayEnv},
		{map[string]string{revealPerDayEnv: "-1"}, revealPerDayEnv},
		{map[string]string{revealPerDayEnv: "4"}, revealPerDayEnv},
		{map[string]string{revealPerMinuteEnv: "20", revealPerDayEnv: "10"}, revealPerDayEnv},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.env[tc.name], func(t *testing.T) {
			_, err := Load(envFrom(tc.env), ModeDev)
			if err == nil {
				t.Fatalf("%v was accepted", tc.env)
			}
			if !strings.Contains(err.Error(), tc.name) {
				t.Errorf("error does not name %s: %v", tc.name, err)
			}
		})
	}
	// A bad minute's value is reported once, not again as a day's value below it.
	_, err := Load(envFrom(map[string]string{revealPerMinuteEnv: "500", revealPerDayEnv: "50"}), ModeDev)
	if err == nil || strings.Contains(err.Error(), revealPerDayEnv) {
		t.Errorf("an out-of-range minute's limit: %v, want only %s named", err, revealPerMinuteEnv)
	}
}
