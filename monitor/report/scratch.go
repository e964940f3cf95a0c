package report

import "sync"

// scratch is what one Parse uses only while it runs: the facts, the .ips
// body and the text parser's state, with their slices and maps. A sweep
// parses thousands of reports, and allocating these afresh for each made
// most of its garbage, and garbage collection about a fifth of its time
// (BenchmarkSweepVsGrep with GOGC=off against the default); so they come
// from a pool. Nothing in a Report points into a scratch: Classify copies
// every string it keeps (clean) and builds its own slices, as ReadFile's
// buffer pool already relies on.
type scratch struct {
	f      facts
	hdr    ipsHeader
	body   ipsBody
	parser crashParser
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// facts returns the facts, empty but for the capacity of their slices.
func (sc *scratch) facts() *facts { return &sc.f }

// ipsBody returns the .ips body, empty but for the capacity of its image
// lists and the map of image names.
func (sc *scratch) ipsBody() *ipsBody { return &sc.body }

// crashParser returns the text parser, ready for a report, its facts the
// scratch's.
func (sc *scratch) crashParser() *crashParser {
	p := &sc.parser
	names, crashedNames := p.imageByName, p.crashedNames
	*p = crashParser{f: &sc.f, crashedThread: -1, curThread: -1, imageByName: names, crashedNames: crashedNames}
	crashed, images := sc.f.crashed[:0], sc.f.images[:0]
	sc.f = facts{format: FormatCrash, crashed: crashed, images: images}
	return p
}

// release empties the scratch of everything that came from the report
// (so that the pool holds no report's bytes or strings) and puts it back.
func (sc *scratch) release() {
	clear(sc.f.crashed)
	clear(sc.f.images)
	crashed, images := sc.f.crashed[:0], sc.f.images[:0]
	sc.f = facts{crashed: crashed, images: images}
	sc.hdr = ipsHeader{}

	b := &sc.body
	clear(b.imagesRaw)
	clear(b.imagePathsRaw)
	clear(b.imageMemo)
	els, paths, memo := b.imagesRaw[:0], b.imagePathsRaw[:0], b.imageMemo
	*b = ipsBody{imagesRaw: els, imagePathsRaw: paths, imageMemo: memo}

	p := &sc.parser
	clear(p.imageByName)
	clear(p.crashedNames)
	*p = crashParser{imageByName: p.imageByName, crashedNames: p.crashedNames}
	scratchPool.Put(sc)
}
