import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../api/api-errors.decorator';
import { CreateSessionDto, SessionDto } from './dto/session.dto';
import { SessionsService, SessionView } from './sessions.service';

@ApiTags('sessions')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('v1/sessions')
export class SessionsController {
  constructor(@Inject(SessionsService) private readonly sessions: SessionsService) {}

  @Post()
  @ApiOperation({
    summary: 'Open a live session on a cached avatar; then connect its WebSocket (links.ws)',
    description:
      'WebSocket /v1/sessions/{id}/ws (auth: Authorization: Bearer, X-API-Key or ?key=). In: binary PCM s16le 16 kHz mono (whole samples), ' +
      'text {"type":"say","text":"…"} or {"type":"end"}. Out: text events ready {mime, fps, width, height} first, then binary fMP4 ' +
      '(init segment first), ended {totals} or error {code, message, fatal}.',
  })
  @ApiResponse({ status: 201, type: SessionDto })
  @ApiErrors(400, 401, 404, 429, 503)
  create(@Body() body: CreateSessionDto): Promise<SessionView> {
    return this.sessions.create(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Session status and totals' })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiErrors(401, 404, 429)
  get(@Param('id') id: string): SessionView {
    return this.sessions.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End a session at once (its socket closes, nothing is kept)' })
  @ApiResponse({ status: 204, description: 'ended' })
  @ApiErrors(401, 404, 429)
  async remove(@Param('id') id: string): Promise<void> {
    await this.sessions.remove(id);
  }
}
