package ui

import "time"

func timeout() <-chan time.Time { return time.After(400 * time.Millisecond) }
