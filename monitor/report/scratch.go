package report

import "sync"

// scratch is what one Parse uses only while it runs: the facts, the .ips
// body and the text parser's state, with their slices and maps. A sweep
// parses thousands of reports, and allocating these afresh for each made
// most of its garbage, and garbage collection about a fifth of its time
// (BenchmarkSweepVsGrep with GOGC=off against the default); so they come
// from a pool. Nothing in a Report points into a scratch: Classify copies
// every string it keeps (clean) and builds its own slices but the
// evidence, which it gathers in the scratch's and Parse copies to fit (most
// reports give one to four lines; a slice made for each with room for
// eight was a sixth of a Report's bytes), and it joins the asi lines in the
// scratch only to read them. ReadFile's buffer pool relies on this too;
// TestParseScratchNoCarryOver fails when a Report keeps any of it.
type scratch struct {
	f        facts
	evidence []string // the Report's evidence lines as Classify gathers them
	joined   []byte   // the asi lines as Classify joins them (joinLines)
	hdr      ipsHeader
	body     ipsBody
	parser   crashParser
}

// maxKeptText is the most room for unescaped text a scratch keeps between
// reports: more than the paths of any real report's images need.
const maxKeptText = 64 << 10

var scratchPool = sync.Pool{New: func() any {
	return &scratch{evidence: make([]string, 0, 8)} // more than any report gives
}}

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
	crashed, images, asi := sc.f.crashed[:0], sc.f.images[:0], sc.f.asi[:0]
	sc.f = facts{format: FormatCrash, crashed: crashed, images: images, asi: asi}
	return p
}

// release empties the scratch of everything that came from the report
// (so that the pool holds no report's bytes or strings) and puts it back.
func (sc *scratch) release() {
	clear(sc.evidence[:cap(sc.evidence)])
	clear(sc.joined)
	clear(sc.f.crashed)
	clear(sc.f.images)
	clear(sc.f.asi)
	crashed, images, asi := sc.f.crashed[:0], sc.f.images[:0], sc.f.asi[:0]
	sc.f = facts{crashed: crashed, images: images, asi: asi}
	sc.hdr = ipsHeader{}

	b := &sc.body
	clear(b.imagesRaw)
	clear(b.imagePathsRaw)
	clear(b.imageMemo)
	clear(b.text)
	text := b.text[:0]
	if cap(text) > maxKeptText {
		text = nil // a huge report's room is not kept for the next
	}
	els, paths, memo := b.imagesRaw[:0], b.imagePathsRaw[:0], b.imageMemo
	*b = ipsBody{imagesRaw: els, imagePathsRaw: paths, imageMemo: memo, text: text}

	p := &sc.parser
	clear(p.imageByName)
	clear(p.crashedNames)
	*p = crashParser{imageByName: p.imageByName, crashedNames: p.crashedNames}
	scratchPool.Put(sc)
}
