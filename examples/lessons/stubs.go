package main

import "context"

func gptLesson(ctx context.Context, e *env) error { return nil }
