// The robfig/cron v3 side of scripts/bench-cron: the same corpus, the same chained Next calls.
// Built in GOPATH mode against Debian's golang-github-robfig-cron-dev.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	cron "github.com/robfig/cron"
)

func main() {
	file, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	start := time.Date(2025, 1, 29, 10, 0, 0, 0, time.UTC)
	const calls = 20000
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		parts := strings.SplitN(scanner.Text(), "\t", 2)
		schedule, err := cron.ParseStandard("CRON_TZ=" + parts[0] + " " + parts[1])
		if err != nil {
			panic(err)
		}
		best := time.Duration(1 << 62)
		var sink int64
		for round := 0; round < 5; round++ {
			t := start
			began := time.Now()
			for i := 0; i < calls; i++ {
				t = schedule.Next(t)
				if i%50 == 49 {
					sink += t.Unix()
					t = start
				}
			}
			if elapsed := time.Since(began); elapsed < best {
				best = elapsed
			}
		}
		fmt.Printf("%s\t%s\t%.1f\t%d\n", parts[0], parts[1], float64(best.Nanoseconds())/calls, sink%7)
	}
}
